#!/usr/bin/perl
# -----------------------------------------------------------------------------
# Hash- and regex-heavy Perl workload for override-perl.
# Builds words from a fixed linear congruential generator, counts them in
# hashes, rewrites them with regular expressions, splits and joins, sorts, and
# prints a deterministic report (the same on every run and every allocator).
# -----------------------------------------------------------------------------
use strict;
use warnings;
use Digest::MD5 qw(md5_hex);

my $state = 12345;
sub next_random { $state = ($state * 1103515245 + 12345) % 2147483648; return $state >> 16; }

my @syllables = qw(ka lo mi ne su ta ri po el an or is que zon bar fel gri hum jax wil);
my (%count, %by_length, %rewritten);
my $digest = Digest::MD5->new;
for my $round (1 .. 12) {
    my @words;
    for (1 .. 25000) {
        my $parts = 1 + next_random() % 4;
        push @words, join('', map { $syllables[next_random() % @syllables] } 1 .. $parts);
    }
    for my $w (@words) {
        $count{$w}++;
        push @{ $by_length{length $w} }, $w if next_random() % 8 == 0;
        (my $r = $w) =~ s/([aeiou])([^aeiou])/$2$1/g;
        $r =~ tr/a-m/n-z/;
        $rewritten{$r} .= substr($w, 0, 2);
    }
    my $text = join(' ', @words);
    my @matches = ($text =~ /\b(\w*que\w*|\w+zon)\b/g);
    $digest->add(scalar(@matches), join(',', @matches[0 .. 9]));
    my @sentences = split /(?<=bar) /, $text;
    $digest->add(scalar(@sentences));
    # drop part of the state so memory is freed and reused
    delete $rewritten{$_} for grep { length($_) % 3 == 0 } keys %rewritten;
    for my $len (keys %by_length) { splice(@{ $by_length{$len} }, 0, int(@{ $by_length{$len} } / 2)); }
}
my @top = (sort { $count{$b} <=> $count{$a} || $a cmp $b } keys %count)[0 .. 29];
printf "%-16s %d\n", $_, $count{$_} for @top;
printf "distinct words: %d\n", scalar(keys %count);
printf "rewritten keys: %d, total length %d\n", scalar(keys %rewritten), eval { my $t = 0; $t += length($_) for values %rewritten; $t };
printf "lengths: %s\n", join(' ', map { "$_:" . scalar(@{ $by_length{$_} }) } sort { $a <=> $b } keys %by_length);
printf "digest: %s\n", $digest->hexdigest;
printf "rewritten digest: %s\n", md5_hex(join("\n", map { "$_=$rewritten{$_}" } sort keys %rewritten));
