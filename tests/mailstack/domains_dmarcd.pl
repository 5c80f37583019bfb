#!/usr/bin/perl
# tests/mailstack/domains_dmarcd.pl - DMARC (RFC 7489) verdicts for the Exim
# of domains.sh, computed by Debian's Mail::DMARC (libmail-dmarc-perl).
# Debian's exim4-daemon-heavy is built without SUPPORT_DMARC; Exim does SPF
# (libspf2) and DKIM itself and asks this daemon, over a unix socket with
# ${readsocket}, what DMARC makes of them.  One request per connection:
#
#   ip=127.0.0.21 mfrom=a.test from=a.test spf=pass dkim=a.test/s1/pass,...
#
# answered with one line of key=value pairs Exim's ${extract} can read:
#
#   result=pass disposition=none p=none domain=a.test reason=-
#
# The policy, the organizational domain and alignment come from
# Mail::DMARC::PurePerl, which queries the DNS server given with --dns.
#
# Usage: domains_dmarcd.pl SOCKET CONFIG_INI DNS_ADDR LOGFILE
use strict;
use warnings;
use IO::Socket::UNIX;
use Net::DNS::Resolver;
use Mail::DMARC::PurePerl;
use POSIX qw(strftime);
use Time::HiRes qw(time);

my ( $sock_path, $ini, $dns, $logfile ) = @ARGV;
die "usage: $0 SOCKET CONFIG_INI DNS_ADDR LOGFILE\n" unless $logfile;

open my $log, '>>', $logfile or die "$logfile: $!\n";
$log->autoflush(1);
sub logline {
    my $t = time;
    printf $log "%s.%03d %s\n", strftime( '%H:%M:%S', localtime $t ), ( $t - int $t ) * 1000, "@_";
}

my $res = Net::DNS::Resolver->new( nameservers => [$dns], port => 53, recurse => 0,
    dnsrch => 0, defnames => 0, udp_timeout => 2, tcp_timeout => 2, retry => 2 );

unlink $sock_path;
my $srv = IO::Socket::UNIX->new( Type => SOCK_STREAM, Local => $sock_path, Listen => 64 )
    or die "listen on $sock_path: $!\n";
chmod 0666, $sock_path;
$SIG{TERM} = sub { unlink $sock_path; exit 0 };
logline("ready on $sock_path, DNS $dns, Mail::DMARC $Mail::DMARC::VERSION");

sub verdict {
    my ($req) = @_;
    my %q = map { /^([a-z]+)=(.*)$/ ? ( $1 => $2 ) : () } split ' ', $req;
    my $from = lc( $q{from} // '' );
    return ( result => 'none', disposition => 'none', p => '-', domain => '-',
        reason => 'no-from-domain' ) if $from eq '';
    my $d = Mail::DMARC::PurePerl->new( config_file => $ini );
    $d->set_resolver($res);
    $d->source_ip( $q{ip} ) if $q{ip} && $d->is_valid_ip( $q{ip} );
    # Mail::DMARC accepts only domains under a public suffix it knows: here
    # that is .test alone, and nothing outside it has a DMARC record to find.
    eval { $d->header_from($from); 1 } or return ( result => 'none',
        disposition => 'none', p => '-', domain => $from, reason => 'not-a-test-domain' );
    my $mfrom = lc( $q{mfrom} // '' );
    $mfrom = $q{helo} // '' if $mfrom eq '';
    my $spf = lc( $q{spf} // 'none' );
    $spf = 'none' unless $d->is_valid_spf_result($spf);
    if ( $mfrom ne '' && $d->is_valid_domain($mfrom) ) {
        $d->spf( domain => $mfrom, scope => 'mfrom', result => $spf );
    }
    my @dkim;
    for my $sig ( split /,/, $q{dkim} // '' ) {
        my ( $dom, $sel, $r ) = split m{/}, $sig;
        next unless $dom && $r;
        $r = 'temperror' if $r eq 'invalid';
        $r = 'none' unless grep { $r eq $_ } qw(none pass fail policy neutral temperror permerror);
        push @dkim, { domain => lc $dom, selector => $sel // '', result => $r };
    }
    $d->dkim( \@dkim ) if @dkim;
    my $r = $d->validate;
    my $pol = eval { $r->published } ;
    my $reason = '-';
    if ( my $rs = eval { $r->reason } ) {
        $rs = $rs->[0] if ref $rs eq 'ARRAY';
        $reason = eval { $rs->comment } || eval { $rs->type } || '-' if ref $rs;
        $reason =~ s/\s+/_/g;
    }
    return ( result => $r->result // 'none', disposition => $r->disposition // 'none',
        p => ( $pol ? $pol->p // '-' : '-' ), domain => $from, reason => $reason );
}

while ( my $c = $srv->accept ) {
    my $t0  = time;
    my $req = <$c> // '';
    $req =~ s/[\r\n]+$//;
    my %v = eval { verdict($req) };
    %v = ( result => 'temperror', disposition => 'none', p => '-', domain => '-',
        reason => 'internal-error' ) unless %v;
    if ($@) { ( my $e = $@ ) =~ s/\s+/ /g; logline("error: $e"); }
    my $ans = join ' ', map { "$_=$v{$_}" } qw(result disposition p domain reason);
    print $c "$ans\n";
    close $c;
    logline( sprintf '%s -> %s (%.1f ms)', $req, $ans, ( time - $t0 ) * 1000 );
}
