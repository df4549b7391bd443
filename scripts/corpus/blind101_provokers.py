"""Hundred-and-first batch of blind provokers: Perl modules from Debian new to the corpus, each in a small script
run with `perl FILE` (blind46_support's harness) against servers and files on 127.0.0.1. Mojo::UserAgent against
the status server (401/403/422/429/500/503), a closed port, a resetting peer, a peer that never answers
(inactivity and request timeouts), a full accept queue (connect timeout) and a self-signed HTTPS server, plus
Mojolicious::Lite apps failing in their handlers (a method on undef, a validation refusing input, a template
error) and Mojo::JSON / Mojo::File failures; DBIx::Class over SQLite (unique and NOT NULL violations, a missing
table, a locked database, a read-only file, a missing directory, an unknown source) and over PostgreSQL
(a wrong password, a closed port, unique violation, unknown column, every connection slot taken); Moose and Moo
type constraints fed bad input (validation) and misused by the calling code (programming); JSON::XS,
Cpanel::JSON::XS and YAML::XS parse errors; Net::SMTP against aiosmtpd (wrong password, no auth, size limit,
451/452 recipients, a 421 greeting, a closed port); Net::LDAP against a closed port, a full accept queue and a
self-signed LDAPS server; Try::Tiny-wrapped errors; Text::CSV_XS on malformed input; Path::Tiny on a missing
path, a read-only and a full tmpfs, a file `nobody` cannot read and the open-file limit."""

from __future__ import annotations

import os
import subprocess
import sys

from blind46_support import ScriptCase, scratch_dir, script_records
from blind69_support import PASSWORD, USER, start_mail_servers
from common import Env, Record, write_batch
from servers import full_backlog_port, mount_tmpfs, private_postgres, read_only_sqlite, self_signed_https

BLIND101_SOURCES = frozenset({"mojo101", "dbic101", "moose101", "perljson101", "netsmtp101", "netldap101",
                              "trytiny101", "csvxs101", "pathtiny101"})

_HEAD = "use strict;\nuse warnings;\n"


def _case(name: str, category: str, source: str, token: str, body: str, **kw: object) -> ScriptCase:
    return ScriptCase(name, category, source, token, "perl", _HEAD + body, **kw)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- Mojolicious

_UA = """use Mojo::UserAgent;

my $ua = Mojo::UserAgent->new(connect_timeout => 3, inactivity_timeout => 5);
"""


def _mojo_status(name: str, category: str, status: int, path: str) -> ScriptCase:
    return _case(name, category, "mojo101", str(status), _UA + f"""my $url = "__HTTP__/status/{status}?{path}";
my $res = $ua->get($url => {{Accept => "application/json"}})->result;
die sprintf("GET %s failed: %d %s\\n", $url, $res->code, $res->message) if $res->is_error;
print $res->json->{{detail}}, "\\n";
""")


def _mojo_error(name: str, category: str, token: str, setup: str, url: str) -> ScriptCase:
    return _case(name, category, "mojo101", token, _UA + setup + f"""my $tx = $ua->get("{url}");
if (my $err = $tx->error) {{
    die "sync request failed: $err->{{message}}\\n" unless $err->{{code}};
    die "sync request failed: HTTP $err->{{code}} $err->{{message}}\\n";
}}
print $tx->result->body;
""")


_LITE = """use Mojolicious::Lite -signatures;
use Mojo::UserAgent;

app->log->level('error');
"""
_LITE_CLIENT = """
my $ua = Mojo::UserAgent->new;
$ua->server->app(app);
my $res = $ua->{method}('{path}'{args})->result;
die sprintf("%s {path} answered %d %s\\n", uc '{method}', $res->code, $res->message) unless $res->is_success;
"""


def _lite(name: str, category: str, token: str, routes: str, method: str, path: str, args: str = "") -> ScriptCase:
    client = _LITE_CLIENT.format(method=method, path=path, args=args)
    return _case(name, category, "mojo101", token, _LITE + routes + client, )


MOJO_CASES = [
    _mojo_status("mojo_ua_401", "auth", 401, "report=monthly"),
    _mojo_status("mojo_ua_403", "auth", 403, "project=billing"),
    _mojo_status("mojo_ua_422", "validation", 422, "sku=KB-01&qty=-2"),
    _mojo_status("mojo_ua_429", "resource", 429, "page=14"),
    _mojo_status("mojo_ua_500", "service", 500, "job=nightly"),
    _mojo_error("mojo_ua_503_error", "service", "503", "", "__HTTP__/status/503"),
    _mojo_error("mojo_ua_refused", "network", "refused", "", "http://127.0.0.1:__CLOSED__/api/v2/sync"),
    _mojo_error("mojo_ua_reset", "network", "reset|Premature connection close", "",
                "http://127.0.0.1:__RESET__/api/v2/sync"),
    _mojo_error("mojo_ua_inactivity_timeout", "network", "Inactivity timeout", "$ua->inactivity_timeout(2);\n",
                "http://127.0.0.1:__HANG__/api/v2/sync"),
    _mojo_error("mojo_ua_request_timeout", "network", "Request timeout", "$ua->request_timeout(2);\n",
                "http://127.0.0.1:__HANG__/api/v2/feed"),
    _mojo_error("mojo_ua_connect_timeout", "network", "Connect timeout", "$ua->connect_timeout(2);\n",
                "http://127.0.0.1:__BACKLOG__/api/v2/sync"),
    _case("mojo_ua_tls_self_signed", "network", "mojo101", "certificate verify failed|SSL connect", _UA + """\
my $res = $ua->get("https://127.0.0.1:__TLS__/health")->result;
print $res->code, "\\n";
"""),
    _lite("mojo_lite_method_on_undef", "programming", "undefined value", """
my %orders = (7 => {id => 7, total => 42});
helper find_order => sub ($c, $id) { return $orders{$id} ? bless({%{$orders{$id}}}, 'Order') : undef };
package Order { sub total ($self) { $self->{total} } }

get '/orders/:id/total' => sub ($c) {
    my $order = $c->find_order($c->param('id'));
    $c->render(json => {total => $order->total});
};
""", "get", "/orders/8/total"),
    _lite("mojo_lite_validation_400", "validation", "400", """
post '/orders' => sub ($c) {
    my $v = $c->validation;
    $v->required('sku')->like(qr/^[A-Z]{2}-\\d+$/);
    $v->required('qty')->num(1, 100);
    return $c->render(status => 400, json => {errors => $v->failed}) if $v->has_error;
    $c->render(json => {ok => 1});
};
""", "post", "/orders", ", form => {sku => 'keyboard', qty => 'two'}"),
    _lite("mojo_lite_template_error", "programming", "syntax error|Global symbol", """
get '/report' => sub ($c) { $c->render(inline => "<% for my \\$row (\\@\\$rows) { %><%= \\$row->{name} %>\\n",
    rows => [{name => 'a'}]) };
""", "get", "/report"),
    _case("mojo_json_malformed", "validation", "mojo101", "Malformed JSON|Missing or empty input|Expected", """\
use Mojo::JSON qw(decode_json);
use Mojo::File qw(path);

path('webhook-payload.json')->spurt('{"event": "order.paid", "order": {"id": 7, "total": 42.5,');
my $payload = decode_json(path('webhook-payload.json')->slurp);
print $payload->{event}, "\\n";
"""),
    _case("mojo_file_missing_dir", "filesystem", "mojo101", "No such file", """\
use Mojo::File qw(path);

my $out = path('exports', '2026-11', 'orders.csv');
$out->spurt("id,total\\n7,42\\n");
"""),
]

# --------------------------------------------------------------------------- DBIx::Class

_DBIC_SCHEMA = """package Shop::Schema::Result::Customer;
use base 'DBIx::Class::Core';
__PACKAGE__->table('b101_customers');
__PACKAGE__->add_columns(id => {data_type => 'integer', is_auto_increment => 1}, qw/email name/);
__PACKAGE__->set_primary_key('id');
__PACKAGE__->add_unique_constraint([qw/email/]);

package Shop::Schema::Result::Invoice;
use base 'DBIx::Class::Core';
__PACKAGE__->table('b101_invoices');
__PACKAGE__->add_columns(id => {data_type => 'integer', is_auto_increment => 1}, qw/customer_id amount/);
__PACKAGE__->set_primary_key('id');

package Shop::Schema;
use base 'DBIx::Class::Schema';
__PACKAGE__->register_class(Customer => 'Shop::Schema::Result::Customer');
__PACKAGE__->register_class(Invoice => 'Shop::Schema::Result::Invoice');

package main;
"""
_SQLITE_DDL = """my $schema = Shop::Schema->connect("dbi:SQLite:dbname=shop.sqlite3", "", "", {RaiseError => 1});
$schema->storage->dbh_do(sub {
    my (undef, $dbh) = @_;
    $dbh->do("CREATE TABLE IF NOT EXISTS b101_customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL)");
});
"""
_PG_DDL = """my $schema = Shop::Schema->connect("dbi:Pg:dbname=test;host=127.0.0.1;port=5432", "postgres", "",
    {RaiseError => 1, PrintError => 0});
$schema->storage->dbh_do(sub {
    my (undef, $dbh) = @_;
    local $dbh->{PrintWarn} = 0;
    $dbh->do("CREATE TEMP TABLE b101_customers (id serial PRIMARY KEY, email text NOT NULL UNIQUE,
        name text NOT NULL)");
});
"""


def _dbic(name: str, category: str, token: str, body: str, **kw: object) -> ScriptCase:
    return _case(name, category, "dbic101", token, "use DBIx::Class;\n\n" + _DBIC_SCHEMA + body, **kw)


DBIC_CASES = [
    _dbic("dbic_sqlite_unique", "validation", "UNIQUE constraint failed", _SQLITE_DDL + """
my $customers = $schema->resultset('Customer');
$customers->create({email => 'ana@example.org', name => 'Ana'});
$customers->create({email => 'ana@example.org', name => 'Ana Lopez'});
"""),
    _dbic("dbic_sqlite_not_null", "validation", "NOT NULL constraint failed", _SQLITE_DDL + """
my %row = (email => 'bo@example.org', name => undef);  # a signup form without a name
$schema->resultset('Customer')->create(\\%row);
"""),
    _dbic("dbic_sqlite_missing_table", "programming", "no such table", _SQLITE_DDL + """
my $total = $schema->resultset('Invoice')->search({customer_id => 1})->get_column('amount')->sum;
print "invoiced: $total\\n";
"""),
    _dbic("dbic_unknown_source", "programming", "Can't find source", _SQLITE_DDL + """
my $rs = $schema->resultset('Customers');
print $rs->count, "\\n";
"""),
    _dbic("dbic_sqlite_locked", "resource", "database is locked", """
use DBI;
my $holder = DBI->connect("dbi:SQLite:dbname=shop.sqlite3", "", "", {RaiseError => 1, AutoCommit => 1});
$holder->do("CREATE TABLE IF NOT EXISTS b101_customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL)");
$holder->do("BEGIN EXCLUSIVE");  # the nightly vacuum job holds the database
my $schema = Shop::Schema->connect("dbi:SQLite:dbname=shop.sqlite3", "", "",
    {RaiseError => 1, on_connect_do => ['PRAGMA busy_timeout = 300']});
$schema->resultset('Customer')->create({email => 'cy@example.org', name => 'Cy'});
"""),
    _dbic("dbic_sqlite_read_only", "filesystem", "readonly database", """
my $schema = Shop::Schema->connect("dbi:SQLite:dbname=__ROSQLITE__", "", "", {RaiseError => 1});
$schema->resultset('Customer')->create({email => 'di@example.org', name => 'Di'});
"""),
    _dbic("dbic_sqlite_missing_dir", "filesystem", "unable to open database file", """
my $schema = Shop::Schema->connect("dbi:SQLite:dbname=var/db/shop.sqlite3", "", "", {RaiseError => 1});
my $n = $schema->resultset('Customer')->count;
print "$n customers\\n";
"""),
    _dbic("dbic_pg_wrong_password", "auth", "password authentication failed", """
my $schema = Shop::Schema->connect("dbi:Pg:dbname=postgres;host=127.0.0.1;port=__PGPRIV__", "app",
    "wrong-password", {RaiseError => 1, PrintError => 0});
print $schema->resultset('Customer')->count, "\\n";
"""),
    _dbic("dbic_pg_refused", "network", "Connection refused", """
my $schema = Shop::Schema->connect("dbi:Pg:dbname=shop;host=127.0.0.1;port=__CLOSED__", "shop", "shop-pass",
    {RaiseError => 1, PrintError => 0});
print $schema->resultset('Customer')->count, "\\n";
"""),
    _dbic("dbic_pg_unique", "validation", "duplicate key", _PG_DDL + """
my $customers = $schema->resultset('Customer');
$customers->create({email => 'eve@example.org', name => 'Eve'});
$customers->create({email => 'eve@example.org', name => 'Eve (import)'});
"""),
    _dbic("dbic_pg_unknown_column", "programming", "does not exist", _PG_DDL + """
my @rows = $schema->resultset('Customer')->search({emial => 'eve@example.org'})->all;
print scalar(@rows), "\\n";
"""),
    _dbic("dbic_pg_too_many_clients", "resource", "too many clients|connection slots", """
use DBI;
my @pool = map { DBI->connect("dbi:Pg:dbname=postgres;host=127.0.0.1;port=__PGPRIV__", "app", "right-password",
    {RaiseError => 1, PrintError => 0}) } 1 .. 3;
my $schema = Shop::Schema->connect("dbi:Pg:dbname=postgres;host=127.0.0.1;port=__PGPRIV__", "app",
    "right-password", {RaiseError => 1, PrintError => 0});
print $schema->resultset('Customer')->count, "\\n";
"""),
]

# --------------------------------------------------------------------------- Moose / Moo

_MOOSE_CLASS = """package Shipment;
use Moose;
has weight_kg => (is => 'ro', isa => 'Num', required => 1);
has quantity => (is => 'ro', isa => 'Int', required => 1);
has carrier => (is => 'ro', isa => 'Str', required => 1);
has status => (is => 'ro', isa => 'Str', default => 'new');
__PACKAGE__->meta->make_immutable;

package main;
"""
_MOO_CLASS = """package Account;
use Moo;
use Types::Standard qw(Str Int Enum);
has email => (is => 'ro', isa => Str, required => 1);
has age => (is => 'ro', isa => Int, required => 1);
has plan => (is => 'ro', isa => Enum[qw(free pro team)], default => 'free');

package main;
"""


def _moose(name: str, category: str, token: str, body: str) -> ScriptCase:
    return _case(name, category, "moose101", token, body)


MOOSE_CASES = [
    _moose("moose_isa_from_input", "validation", "Validation failed|does not pass the type constraint",
           _MOOSE_CLASS + """
open my $fh, '<', \\"7;2,5 kg;DHL\\n" or die;  # a line of the carrier's manifest
chomp(my $line = <$fh>);
my ($qty, $weight, $carrier) = split /;/, $line;
my $s = Shipment->new(quantity => $qty, weight_kg => $weight, carrier => $carrier);
"""),
    _moose("moose_required_missing", "programming", "is required", _MOOSE_CLASS + """
my $s = Shipment->new(quantity => 3, weight_kg => 1.5);
print $s->carrier, "\\n";
"""),
    _moose("moose_ro_assign", "programming", "read-only", _MOOSE_CLASS + """
my $s = Shipment->new(quantity => 3, weight_kg => 1.5, carrier => 'UPS');
$s->status('shipped');
"""),
    _moose("moose_role_requires", "programming", "requires the method", """package Notifier;
use Moose::Role;
requires 'deliver';

package SlackNotifier;
use Moose;
with 'Notifier';

package main;
SlackNotifier->new;
"""),
    _moose("moose_unknown_method", "programming", "Can't locate object method", _MOOSE_CLASS + """
my $s = Shipment->new(quantity => 3, weight_kg => 1.5, carrier => 'UPS');
print $s->weight, "\\n";
"""),
    _moose("moo_isa_from_input", "validation", "type constraint|did not pass", _MOO_CLASS + """
my %form = (email => 'ana@example.org', age => 'thirty-two');  # submitted by a user
my $acct = Account->new(%form);
"""),
    _moose("moo_enum_from_config", "validation", "type constraint|did not pass", _MOO_CLASS + """
my %cfg = map { split /=/, $_, 2 } split /\\n/, "email=ops\\@example.org\\nage=40\\nplan=enterprise";
my $acct = Account->new(%cfg);
"""),
    _moose("moo_required_missing", "programming", "Missing required arguments", _MOO_CLASS + """
my $acct = Account->new(email => 'ana@example.org');
"""),
]

# --------------------------------------------------------------------------- JSON::XS, Cpanel::JSON::XS, YAML::XS

JSON_CASES = [
    _case("jsonxs_truncated", "validation", "perljson101", "unexpected end|malformed", """use JSON::XS;

open my $out, '>', 'orders.json' or die $!;
print {$out} '{"orders": [{"id": 7, "total": 42.5}, {"id": 8, "tot';
close $out;
open my $in, '<', 'orders.json' or die $!;
my $data = JSON::XS->new->utf8->decode(do { local $/; <$in> });
"""),
    _case("jsonxs_encode_blessed", "programming", "perljson101", "encountered object|allow_blessed", """use JSON::XS;

my $job = bless {id => 7, state => 'queued'}, 'Job';
print JSON::XS->new->canonical->encode({job => $job}), "\\n";
"""),
    _case("cpanel_json_trailing_comma", "validation", "perljson101", "malformed|expected|unexpected",
          """use Cpanel::JSON::XS;

my $text = qq({"retries": 3, "backoff": [1, 2, 4,], "queue": "mail"});
my $cfg = Cpanel::JSON::XS->new->decode($text);
"""),
    _case("cpanel_json_bad_utf8", "validation", "perljson101", "UTF-8|malformed", """use Cpanel::JSON::XS;

my $bytes = "{\\"name\\": \\"M\\xfcller\\"}";   # latin-1 bytes from a legacy export
my $row = Cpanel::JSON::XS->new->utf8->decode($bytes);
"""),
    _case("yamlxs_bad_indent", "validation", "perljson101", "YAML::XS::Load Error|YAML Error|could not find",
          """use YAML::XS qw(Load);

my $doc = "services:\\n  web:\\n    image: shop:1.4\\n   ports:\\n      - 8080\\n";
my $cfg = Load($doc);
"""),
    _case("yamlxs_loadfile_missing", "filesystem", "perljson101", "No such file|Can't open",
          """use YAML::XS qw(LoadFile);

my $cfg = LoadFile('config/deploy.yml');
print $cfg->{target}, "\\n";
"""),
]

# --------------------------------------------------------------------------- Net::SMTP

_SMTP = """use Net::SMTP;

my $smtp = Net::SMTP->new('127.0.0.1', Port => __SMTPPORT__, Timeout => 5, Hello => 'reports.b101.test')
    or die "cannot connect to SMTP server: $@\\n";
"""
_SMTP_AUTH = f"""$smtp->auth('{USER}', '{PASSWORD}') or die "SMTP AUTH failed: " . $smtp->code . ' ' . $smtp->message;
"""
_SMTP_SEND = """$smtp->mail('reports@b101.test') or die "MAIL FROM refused: " . $smtp->code . ' ' . $smtp->message;
$smtp->to('RCPT@b101.test') or die "RCPT TO refused: " . $smtp->code . ' ' . $smtp->message;
$smtp->data(BODY) or die "DATA refused: " . $smtp->code . ' ' . $smtp->message;
$smtp->quit;
"""


def _smtp(name: str, category: str, token: str, port: str, auth: str = _SMTP_AUTH, rcpt: str = "ops",
          body: str = '"Subject: nightly\\n\\nall good\\n"') -> ScriptCase:
    script = _SMTP.replace("__SMTPPORT__", port) + auth + _SMTP_SEND.replace("RCPT", rcpt).replace("BODY", body)
    return _case(name, category, "netsmtp101", token, script)


SMTP_CASES = [
    _smtp("netsmtp_auth_wrong_password", "auth", "535", "__SMTPAUTH__", auth=_SMTP_AUTH.replace(PASSWORD, "expired")),
    _smtp("netsmtp_auth_required", "auth", "530", "__SMTPAUTH__", auth=""),
    _smtp("netsmtp_size_limit", "resource", "552", "__SMTPAUTH__",
          body='"Subject: export\\n\\n" . (("x" x 70) . "\\n") x 300'),
    _smtp("netsmtp_rcpt_451", "service", "451", "__SMTPAUTH__", rcpt="busy"),
    _smtp("netsmtp_rcpt_452", "resource", "452", "__SMTPAUTH__", rcpt="full"),
    _smtp("netsmtp_greeting_421", "service", "421|cannot connect", "__SMTP421__", auth=""),
    _smtp("netsmtp_refused", "network", "refused", "__CLOSED__", auth=""),
]

# --------------------------------------------------------------------------- Net::LDAP

_LDAP = """use Net::LDAP;

my $ldap = Net::LDAP->new('URI', timeout => 3, VERIFY) or die "LDAP connect to URI failed: $@\\n";
my $mesg = $ldap->bind('cn=reader,dc=b101,dc=test', password => 'reader-pass');
die 'LDAP bind failed: ' . $mesg->error . "\\n" if $mesg->code;
"""

LDAP_CASES = [
    _case("netldap_refused", "network", "netldap101", "refused",
          _LDAP.replace("URI", "ldap://127.0.0.1:__CLOSED__").replace(", VERIFY", "")),
    _case("netldap_connect_timeout", "network", "netldap101", "timeout|timed out",
          _LDAP.replace("URI", "ldap://127.0.0.1:__BACKLOG__").replace(", VERIFY", "")),
    _case("netldap_ldaps_self_signed", "network", "netldap101", "certificate verify failed|SSL",
          _LDAP.replace("URI", "ldaps://127.0.0.1:__TLS__").replace(
              "VERIFY", "verify => 'require', capath => '/etc/ssl/certs/'")),
]

# --------------------------------------------------------------------------- Try::Tiny

TRY_CASES = [
    _case("trytiny_config_missing", "filesystem", "trytiny101", "No such file", """use Try::Tiny;

my $cfg = try {
    open my $fh, '<', '/etc/b101-sync/settings.ini' or die "cannot open settings: $!\\n";
    local $/; <$fh>;
} catch {
    die "sync aborted: $_";
};
"""),
    _case("trytiny_not_a_hash", "programming", "trytiny101", "Not a HASH reference", """use Try::Tiny;

my $rows = [[7, 'paid'], [8, 'open']];
try {
    for my $row (@$rows) { printf "%d %s\\n", $row->{id}, $row->{state} }
} catch {
    warn "report failed: $_";
    exit 2;
};
"""),
    _case("trytiny_ua_refused", "network", "trytiny101", "refused", """use Try::Tiny;
use Mojo::UserAgent;

my $ua = Mojo::UserAgent->new(connect_timeout => 3);
try {
    my $res = $ua->post("http://127.0.0.1:__CLOSED__/hooks/deploy" => json => {ref => 'main'})->result;
} catch {
    die "webhook delivery failed, will retry: $_";
};
"""),
    _case("trytiny_json_input", "validation", "trytiny101", "malformed|unexpected|expected", """use Try::Tiny;
use JSON::XS qw(decode_json);

my $line = '{"user": "ana", "amount": 12,50}';   # read from the import queue
my $event = try { decode_json($line) } catch { die "rejecting import line: $_" };
"""),
    _case("trytiny_pg_password", "auth", "trytiny101", "password authentication failed", """use Try::Tiny;
use DBI;

try {
    my $dbh = DBI->connect("dbi:Pg:dbname=postgres;host=127.0.0.1;port=__PGPRIV__", "app", "old-password",
        {RaiseError => 1, PrintError => 0});
} catch {
    chomp(my $err = $_);
    die "database login failed: $err\\n";
} finally {
    print STDERR "connect attempt finished\\n";
};
"""),
    _case("trytiny_open_files", "resource", "trytiny101", "Too many open files", """use Try::Tiny;

my @handles;
try {
    for my $i (1 .. 200) {
        open my $fh, '>', "part-$i.tmp" or die "cannot open part-$i.tmp: $!\\n";
        push @handles, $fh;
    }
} catch {
    die "spooling failed after " . scalar(@handles) . " parts: $_";
};
""", max_files=32),
]

# --------------------------------------------------------------------------- Text::CSV_XS

_CSV = """use Text::CSV_XS;

open my $out, '>', 'orders.csv' or die $!;
print {$out} DATA;
close $out;
my $csv = Text::CSV_XS->new({binary => BINARY, auto_diag => 2, strict => 1});
open my $fh, '<', 'orders.csv' or die $!;
while (my $row = $csv->getline($fh)) { print join('|', @$row), "\\n" }
"""


def _csv(name: str, token: str, data: str, binary: int = 1) -> ScriptCase:
    return _case(name, "validation", "csvxs101", token, _CSV.replace("DATA", data).replace("BINARY", str(binary)))


CSV_CASES = [
    _csv("csvxs_unterminated_quote", "EOF|EIQ|20", r'''qq(id,name,total\n7,"Ana Lopez,42.50\n8,Bo,13.00\n)'''),
    _csv("csvxs_field_count", "ENF|2014|Inconsistent", r'''qq(id,name,total\n7,Ana,42.50\n8,Bo\n)'''),
    _csv("csvxs_quote_in_field", "EIQ|QUO|20", r'''qq(id,name,total\n7,Ana "the" Lopez,42.50\n)'''),
    _csv("csvxs_binary_char", "EIQ|EIF|binary|20", r'''qq(id,name,total\n7,"Ana\nLopez",42.50\n)''', binary=0),
    _case("csvxs_csv_missing_file", "filesystem", "csvxs101", "No such file", """use Text::CSV_XS qw(csv);

my $rows = csv(in => 'imports/customers-2026-11.csv', headers => 'auto');
print scalar(@$rows), "\\n";
"""),
]

# --------------------------------------------------------------------------- Path::Tiny

PATH_CASES = [
    _case("pathtiny_slurp_missing", "filesystem", "pathtiny101", "No such file", """use Path::Tiny;

my $token = path('secrets', 'deploy.token')->slurp_utf8;
"""),
    _case("pathtiny_spew_read_only", "filesystem", "pathtiny101", "Read-only file system", """use Path::Tiny;

path('__RODIR__', 'cache', 'index.json')->parent->mkpath;
path('__RODIR__', 'index.json')->spew_utf8('{"built": 1}');
"""),
    _case("pathtiny_append_full", "resource", "pathtiny101", "No space left", """use Path::Tiny;

my $log = path('__FULLDIR__', 'audit.log');
$log->append_raw(("audit line " . ('x' x 200) . "\\n") x 2000);
"""),
    _case("pathtiny_mkpath_not_dir", "filesystem", "pathtiny101", "Not a directory|exists|mkdir", """use Path::Tiny;

path('build')->spew('placeholder');
path('build', 'assets', 'css')->mkpath;
path('build', 'assets', 'css', 'site.css')->touch;
"""),
    _case("pathtiny_permission", "filesystem", "pathtiny101", "Permission denied", """use Path::Tiny;

my $key = path('__SECRET__')->slurp;
""", nobody=True),
    _case("pathtiny_undef_part", "programming", "pathtiny101", "defined, positive-length|paths require",
          """use Path::Tiny;

my %cfg = (base => '/srv/app');
my $dir = path($cfg{base_dir}, 'releases');
"""),
]


def make_records(env: Env) -> list[Record]:
    scratch = scratch_dir(env)
    mail = start_mail_servers(env)
    pg = private_postgres(env)
    backlog = full_backlog_port(env)
    tls = self_signed_https(env)
    ro_sqlite = read_only_sqlite(env, "b101-rodb", "CREATE TABLE b101_customers (id INTEGER PRIMARY KEY, "
                                 "email TEXT NOT NULL UNIQUE, name TEXT NOT NULL);")
    rodir = mount_tmpfs(env, "b101-ro", "size=256k")
    subprocess.run(["mount", "-o", "remount,ro", str(rodir)], check=True, capture_output=True)
    fulldir = mount_tmpfs(env, "b101-full", "size=64k")
    os.chmod(fulldir, 0o777)
    secret = scratch / "deploy-signing.key"
    secret.write_text("-----BEGIN KEY-----\n")
    secret.chmod(0o600)
    places = {"__HTTP__": env.http, "__CLOSED__": str(env.closed_port), "__RESET__": str(env.reset_port),
              "__HANG__": str(env.hang_port), "__BACKLOG__": str(backlog), "__TLS__": str(tls),
              "__SMTPAUTH__": str(mail.smtp_auth), "__SMTP421__": str(mail.smtp_421), "__PGPRIV__": str(pg.port),
              "__ROSQLITE__": str(ro_sqlite), "__RODIR__": str(rodir), "__FULLDIR__": str(fulldir),
              "__SECRET__": str(secret)}

    def fill(text: str) -> str:
        for key, value in places.items():
            text = text.replace(key, value)
        return text

    cases = [*MOJO_CASES, *DBIC_CASES, *MOOSE_CASES, *JSON_CASES, *SMTP_CASES, *LDAP_CASES, *TRY_CASES, *CSV_CASES,
             *PATH_CASES]
    only = os.environ.get("B101_ONLY")
    if only:
        cases = [c for c in cases if c.name.startswith(tuple(only.split(",")))]
    return script_records(cases, scratch, fill)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: blind101_provokers.py OUT.jsonl")
    write_batch(make_records)
