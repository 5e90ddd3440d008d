#!/usr/bin/perl
# Verify a message with Mail::DKIM::Verifier, offline: the DKIM key records come from a JSON
# file (name => TXT value), answered by a stand-in for Net::DNS::Resolver that
# Mail::DKIM::DNS::resolver() installs (Mail::DKIM::DNS::query calls ->send and ->errorstring).
#
#   perl maildkim_verify.pl RECORDS.json < message.eml
#
# Environment: MAILDKIM_NOW (POSIX seconds) fixes the clock Mail::DKIM judges x= by (it reads
# time() once per signature; CORE::GLOBAL::time is replaced before Mail::DKIM is compiled);
# MAILDKIM_STRICT=1 turns on Mail::DKIM's Strict mode (refuses rsa-sha1 and keys < 1024 bits).
# Prints one JSON object: the overall result and, per signature in header order, its result,
# result_detail and b= value (to match signatures Mail::DKIM could not parse).
use strict;
use warnings;

our $NOW;

BEGIN {
    $NOW = $ENV{MAILDKIM_NOW};
    if ( defined $NOW && length $NOW ) {
        no warnings 'once';
        *CORE::GLOBAL::time = sub () { return $NOW + 0 };
    }
}

use JSON::PP;
use Net::DNS;
use Mail::DKIM::DNS;
use Mail::DKIM::Verifier;

package FakeResolver;

sub new {
    my ( $class, $records ) = @_;
    my %lower = map { lc($_) => $records->{$_} } keys %$records;
    return bless { records => \%lower }, $class;
}

sub errorstring { return 'NOERROR' }

sub send {
    my ( $self, $name, $type ) = @_;
    my $packet = Net::DNS::Packet->new( $name, $type );
    $packet->header->qr(1);
    ( my $key = lc $name ) =~ s/\.\z//;
    my $value = $self->{records}{$key};
    if ( !defined $value || $type ne 'TXT' ) {
        $packet->header->rcode('NXDOMAIN');
        return $packet;
    }
    my @chunks = ( $value =~ /(.{1,255})/gs );
    @chunks = ('') unless @chunks;
    $packet->push(
        answer => Net::DNS::RR->new( name => $name, type => 'TXT', txtdata => \@chunks ) );
    return $packet;
}

package main;

my $records = do {
    open my $file, '<', $ARGV[0] or die "cannot read $ARGV[0]: $!\n";
    local $/;
    decode_json(<$file>);
};
Mail::DKIM::DNS::resolver( FakeResolver->new($records) );

binmode STDIN;
my $message = do { local $/; <STDIN> };
my $dkim = Mail::DKIM::Verifier->new( Strict => ( $ENV{MAILDKIM_STRICT} ? 1 : 0 ) );
$dkim->PRINT($message);
$dkim->CLOSE;

my @signatures;
for my $signature ( $dkim->signatures ) {
    push @signatures,
      {
        result => $signature->result        // 'none',
        detail => $signature->result_detail // '',
        b      => $signature->data          // '',
      };
}
print encode_json(
    {
        result     => $dkim->result,
        detail     => $dkim->result_detail,
        signatures => \@signatures,
    }
  ),
  "\n";
