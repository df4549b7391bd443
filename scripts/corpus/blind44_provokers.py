"""Forty-fourth batch of blind provokers: system and shell tools as deploy scripts and CI jobs print them. A private
sshd on a loopback port (own host key and authorized_keys, stopped at the end) meets ssh, scp, sftp and rsync over
ssh with a key it does not authorize, a changed host key, a closed port, a banner that never comes, a
forward to a closed port, remote paths that are missing, full or read-only, and remote commands that fail. Then
xmllint on malformed XML and schema, DTD and RELAX NG violations; ImageMagick and ffmpeg on corrupt, missing and
unwritable files, a pixel-cache limit and HTTP inputs answering 401/403/502/503; unzip, zip and 7z on truncated,
corrupted, password-protected archives and a full tmpfs; and socat, nc, dig, host, nslookup (against a DNS server
on 127.0.0.1 answering NXDOMAIN or SERVFAIL), timeout(1), flock, crontab, awk, sed, base64 and
``python3 -m venv``. Only 127.0.0.1."""

from __future__ import annotations

import subprocess

from blind44_support import SshServer, ensure_privsep, make_inputs, start_dns, start_sshd
from checked import ToolCase, tool_records
from common import Env, Record, write_batch
from servers import mount_tmpfs

BLIND44_SOURCES = frozenset({"ssh44", "xmllint44", "media44", "archive44", "shell44"})
CONVERT = "/usr/bin/convert"
IDENTIFY = "/usr/bin/identify"
FFMPEG = "ffmpeg -hide_banner -nostdin -loglevel error"


def ssh_cases() -> list[ToolCase]:
    """SSH, SCP, SFTP, RSYNC_E stand for the client with the authorized key; the *_STRANGER, *_CLOSED, *_HANG
    and *_CHANGED variants swap the key, the port or known_hosts."""
    return [
        ("ssh_key_not_authorized", "auth", "Permission denied", "SSH_STRANGER root@127.0.0.1 'systemctl reload app'"),
        ("scp_key_not_authorized", "auth", "Permission denied", "SCP_STRANGER @W@/artifact.bin "
         "root@127.0.0.1:@W@/remote/artifact.bin"),
        ("sftp_key_not_authorized", "auth", "Permission denied", "echo 'put @W@/notes.txt @W@/remote/' | "
         "SFTP_STRANGER -b - root@127.0.0.1"),
        ("rsync_key_not_authorized", "auth", "Permission denied", "rsync -az -e 'RSYNC_STRANGER' @W@/notes.txt "
         "root@127.0.0.1:@W@/remote/"),
        ("ssh_host_key_changed", "network", "Host key verification failed", "SSH_CHANGED root@127.0.0.1 uptime"),
        ("ssh_port_closed", "network", "Connection refused", "SSH_CLOSED root@127.0.0.1 'docker compose pull'"),
        ("rsync_ssh_port_closed", "network", "Connection refused", "rsync -az -e 'RSYNC_CLOSED' @W@/notes.txt "
         "root@127.0.0.1:/srv/"),
        ("ssh_banner_timeout", "network", "timed out", "SSH_HANG -o ConnectTimeout=2 root@127.0.0.1 true"),
        ("ssh_forward_closed", "network", "Connection refused|open failed", "SSH -W 127.0.0.1:@CLOSEDPORT@ "
         "root@127.0.0.1"),
        ("scp_remote_source_missing", "filesystem", "No such file", "SCP root@127.0.0.1:/srv/releases44/app.tar.gz "
         "@W@/"),
        ("rsync_remote_source_missing", "filesystem", "No such file", "rsync -az -e 'RSYNC_E' "
         "root@127.0.0.1:/srv/backups44/ @W@/restore/"),
        ("sftp_get_missing", "filesystem", "not found|No such file", "echo 'get /var/lib/app44/dump.sql @W@/' | "
         "SFTP -b - root@127.0.0.1"),
        ("scp_remote_disk_full", "resource", "No space left", "SCP -O @W@/artifact.bin root@127.0.0.1:@RFULL@/"),
        ("rsync_remote_disk_full", "resource", "No space left", "for i in 1 2 3 4 5; do rsync -a -e 'RSYNC_E' "
         "@W@/artifact.bin root@127.0.0.1:@RFULL2@/ 2> @W@/rsync.err; s=$?; [ -s @W@/rsync.err ] && break; done; "
         "cat @W@/rsync.err >&2; exit $s"),  # the receiver's message sometimes loses the race with ssh's exit
        ("scp_remote_read_only", "filesystem", "Read-only", "SCP -O @W@/notes.txt root@127.0.0.1:@RRO@/"),
        ("ssh_remote_file_missing", "filesystem", "No such file", "SSH root@127.0.0.1 "
         "'cat /srv/app44/current/REVISION'"),
        ("ssh_remote_command_missing", "filesystem", "not found", "SSH root@127.0.0.1 'deployctl44 restart web'"),
        ("ssh_remote_script_syntax", "programming", "syntax error", "SSH root@127.0.0.1 'bash @W@/remote/deploy.sh'"),
        ("ssh_remote_json_invalid", "validation", "JSONDecodeError", "SSH root@127.0.0.1 \"/usr/bin/python3 -c "
         "'import json, sys; json.load(open(sys.argv[1]))' @W@/remote/settings.json\""),
        ("ssh_remote_python_name_error", "programming", "NameError", "SSH root@127.0.0.1 "
         "'/usr/bin/python3 @W@/remote/migrate.py up'"),
        ("ssh_remote_psql_unknown_role", "auth", "b44_deployer", "SSH root@127.0.0.1 'psql -h 127.0.0.1 "
         "-U b44_deployer -d test -c \"select 1\"'"),
    ]


XMLLINT: list[ToolCase] = [
    ("xmllint_tag_mismatch", "validation", "parser error", "xmllint --noout @W@/sitemap.xml"),
    ("xmllint_xsd_violation", "validation", "fails to validate", "xmllint --noout --schema @W@/service.xsd "
     "@W@/service.xml"),
    ("xmllint_dtd_violation", "validation", "validity error", "xmllint --noout --valid @W@/pom-like.xml"),
    ("xmllint_relaxng_violation", "validation", "fails to validate", "xmllint --noout --relaxng @W@/job.rng "
     "@W@/job.xml"),
    ("xmllint_missing_file", "filesystem", "failed to load|No such file", "xmllint --noout @W@/config/web44.xml"),
    ("xmllint_bad_xpath", "programming", "XPath", "xmllint --xpath '//host[@port=' @W@/hosts.xml"),
]

MEDIA: list[ToolCase] = [
    ("convert_truncated_gif", "validation", "Read|corrupt|improper", f"{CONVERT} @W@/banner.gif -resize 64x64 "
     "@W@/banner-small.png"),
    ("identify_not_a_jpeg", "validation", "Read|corrupt|improper", f"{IDENTIFY} @W@/avatar.jpg"),
    ("convert_missing_input", "filesystem", "No such file|unable to open", f"{CONVERT} @W@/uploads/hero44.png "
     "-thumbnail 200x200 @W@/hero-thumb.png"),
    ("convert_output_read_only", "filesystem", "Read-only|unable to open", f"{CONVERT} -size 32x32 xc:red "
     "@RO@/thumb.png"),
    ("convert_cache_exhausted", "resource", "cache resources exhausted|resource", f"{CONVERT} -limit memory 1KiB "
     "-limit map 1KiB -limit disk 1KiB -size 3000x3000 xc:white @W@/poster.png"),
    ("ffmpeg_corrupt_input", "validation", "Invalid data", f"{FFMPEG} -i @W@/clip.mp4 -f null -"),
    ("ffmpeg_missing_input", "filesystem", "No such file", f"{FFMPEG} -i @W@/incoming/episode44.mkv -c copy "
     "@W@/episode.mp4"),
    ("ffmpeg_output_disk_full", "resource", "No space left", f"{FFMPEG} -f lavfi -i anullsrc=r=48000:cl=stereo "
     "-t 20 -c:a pcm_s16le @DISK@/render.wav; s=$?; rm -f @DISK@/render.wav; exit $s"),
    ("ffmpeg_http_503", "service", "5XX|503", f"{FFMPEG} -i @HTTP@/status/503 -f null -"),
    ("ffmpeg_http_502", "service", "5XX|502", f"{FFMPEG} -i @HTTP@/status/502 -c copy -f null -"),
    ("ffmpeg_http_401", "auth", "401|Unauthorized", f"{FFMPEG} -i @HTTP@/status/401 -f null -"),
    ("ffmpeg_http_403", "auth", "403|Forbidden", f"{FFMPEG} -i @HTTP@/status/403 -f null -"),
    ("ffmpeg_http_refused", "network", "Connection refused", f"{FFMPEG} -i http://127.0.0.1:@CLOSEDPORT@/live.m3u8 "
     "-f null -"),
    ("ffmpeg_http_timeout", "network", "timed out|Timeout", f"{FFMPEG} -rw_timeout 2000000 -i "
     "http://127.0.0.1:@HANGPORT@/live.m3u8 -f null -"),
]

ARCHIVE: list[ToolCase] = [
    ("unzip_truncated", "validation", "central directory|zipfile", "unzip -o @W@/truncated.zip -d @W@/out-trunc"),
    ("unzip_bad_crc", "validation", "CRC", "unzip -o @W@/docs-bad-crc.zip -d @W@/out-crc"),
    ("unzip_wrong_password", "auth", "password", "unzip -o -P wrong-b44 @W@/secrets.zip -d @W@/out-secret"),
    ("unzip_disk_full", "resource", "disk full|No space", "unzip -o @W@/bundle.zip -d @DISK@/; s=$?; "
     "rm -rf @DISK@/*; exit $s"),
    ("zip_disk_full", "resource", "No space|I/O error|write error", "zip -q -0 @DISK@/artifacts.zip @W@/artifact.bin; "
     "s=$?; rm -rf @DISK@/*; exit $s"),
    ("zip_input_missing", "filesystem", "name not matched|Nothing to do", "zip @W@/logs.zip @W@/logs44/app.log"),
    ("sevenzip_truncated", "validation", "Unexpected end|Data Error|Headers Error|archive", "7z x -bd -y "
     "-o@W@/out-7z @W@/release-partial.7z"),
    ("sevenzip_wrong_password", "auth", "Wrong password", "7z x -bd -y -pwrong-b44 -o@W@/out-7z-secret @W@/secrets.7z"),
    ("sevenzip_disk_full", "resource", "No space|not enough space", "7z a -bd -y -mx=0 @DISK@/backup.7z "
     "@W@/artifact.bin; s=$?; rm -rf @DISK@/*; exit $s"),
    ("sevenzip_missing_archive", "filesystem", "cannot find|No such file|cannot open", "7z x -bd -y -o@W@/out-7z-miss "
     "@W@/nightly44.7z"),
]

SHELL: list[ToolCase] = [
    ("socat_refused", "network", "Connection refused", "socat -T2 - TCP:127.0.0.1:@CLOSEDPORT@ < /dev/null"),
    ("nc_refused", "network", "refused", "nc -v -w 2 127.0.0.1 @CLOSEDPORT@ < /dev/null"),
    ("dig_server_refused", "network", "refused|no servers", "dig @127.0.0.1 -p @CLOSEDPORT@ +time=1 +tries=1 "
     "db.internal44.invalid"),
    ("host_nxdomain", "network", "NXDOMAIN", "host -W 2 -p @DNSPORT@ registry44.invalid 127.0.0.1"),
    ("host_servfail", "service", "SERVFAIL", "host -W 2 -p @DNSPORT@ servfail-api44.invalid 127.0.0.1"),
    ("nslookup_servfail", "service", "SERVFAIL", "nslookup -port=@DNSPORT@ -timeout=2 servfail-cache44.invalid "
     "127.0.0.1"),
    ("host_dns_timeout", "network", "timed out", "host -W 1 -R 1 -p @SILENTPORT@ artifacts44.invalid 127.0.0.1"),
    ("timeout_kills_curl", "network", "sending signal", "timeout -v 2 curl -sS http://127.0.0.1:@HANGPORT@/health"),
    ("flock_held", "resource", "failed to get lock", "flock @W@/deploy.lock sleep 3 >/dev/null 2>&1 & "
     "sleep 0.5; flock -n --verbose @W@/deploy.lock ./release.sh; s=$?; kill $!; wait; exit $s"),
    ("crontab_bad_minute", "validation", "bad minute|errors in crontab", "printf '61 3 * * * /opt/app/backup.sh\\n' "
     "> @W@/backup.cron && crontab @W@/backup.cron"),
    ("crontab_missing_field", "validation", "bad|errors in crontab", "printf '*/15 * * * /opt/app/sync.sh\\n' "
     "> @W@/sync.cron && crontab @W@/sync.cron"),
    ("gawk_syntax", "programming", "syntax error", "printf 'a 1\\n' | gawk '{ sum += $2 END { print sum }'"),
    ("mawk_syntax", "programming", "syntax error", "printf 'a 1\\n' | mawk '{ if ($2 > 0 print $1 }'"),
    ("gawk_division_by_zero", "programming", "division by zero", "gawk 'BEGIN { hits = 0; print 100 / hits }'"),
    ("sed_unterminated", "programming", "unterminated", "printf 'version=1.0\\n' | sed -e 's/version=.*/version=2.0'"),
    ("sed_inplace_missing", "filesystem", "No such file", "sed -i 's/debug/info/' @W@/conf44/app.ini"),
    ("sed_inplace_read_only", "filesystem", "Read-only", "sed -i 's/debug/info/' @RO@/app.ini"),
    ("venv_read_only", "filesystem", "Read-only", "/usr/bin/python3 -m venv --without-pip @RO@/venv"),
    ("venv_disk_full", "resource", "No space", "/usr/bin/python3 -m venv --copies --without-pip @DISK@/venv; s=$?; "
     "rm -rf @DISK@/*; exit $s"),
    ("base64_invalid", "validation", "invalid input", "printf 'c2VjcmV0!!@@\\n' | base64 -d"),
]


def _ssh_fill(ssh: SshServer, env: Env) -> dict[str, str]:
    """The client commands a case names, longest first so that SSH_STRANGER is replaced before SSH."""
    closed, hang = env.closed_port, env.hang_port
    variants: dict[str, str] = {}
    for suffix, kwargs in (("_STRANGER", {"key": ssh.bad_key}), ("_CLOSED", {"port": closed}),
                           ("_CHANGED", {"known_hosts": ssh.changed_known_hosts}),
                           ("_HANG", {"port": hang}),
                           ("", {})):
        variants[f"RSYNC{suffix}"] = "ssh " + ssh.client(**kwargs)
        variants[f"SSH{suffix}"] = "ssh " + ssh.client(**kwargs)
        variants[f"SCP{suffix}"] = "scp " + ssh.client(port_flag="-P", **kwargs)
        variants[f"SFTP{suffix}"] = "sftp " + ssh.client(port_flag="-P", **kwargs)
    variants["RSYNC_E"] = variants.pop("RSYNC")
    return dict(sorted(variants.items(), key=lambda kv: -len(kv[0])))


def blind44_records(env: Env) -> list[Record]:
    work = env.tmp / "w44"
    make_inputs(work)
    disk = mount_tmpfs(env, "disk44", "size=256k")
    ro = mount_tmpfs(env, "ro44", "size=64k")
    (ro / "app.ini").write_text("[log]\nlevel = debug\n")
    subprocess.run(["mount", "-o", "remount,ro", str(ro)], check=True, capture_output=True)
    had_crontab = subprocess.run(["crontab", "-l"], capture_output=True, check=False).returncode == 0
    rfull = mount_tmpfs(env, "rfull44", "size=256k")
    rfull2 = mount_tmpfs(env, "rfull44b", "size=256k")
    rro = mount_tmpfs(env, "rro44", "size=64k,ro")
    ssh = start_sshd(env)
    dns_port, silent_port = start_dns(env)
    ssh_fill = _ssh_fill(ssh, env)
    places = {"@RFULL2@": str(rfull2), "@RFULL@": str(rfull), "@RRO@": str(rro), "@DISK@": str(disk),
              "@RO@": str(ro), "@HTTP@": env.http, "@CLOSEDPORT@": str(env.closed_port),
              "@HANGPORT@": str(env.hang_port), "@DNSPORT@": str(dns_port), "@SILENTPORT@": str(silent_port),
              "@W@": str(work)}

    def fill(command: str) -> str:
        for key, value in ssh_fill.items():
            command = command.replace(key, value)
        for key, value in places.items():
            command = command.replace(key, value)
        return command

    out: list[Record] = []
    for case in ssh_cases():
        ensure_privsep()
        out += tool_records([case], "ssh44", work, fill, timeout=30)
    out += tool_records(XMLLINT, "xmllint44", work, fill, timeout=30)
    out += tool_records(MEDIA, "media44", work, fill, timeout=30)
    out += tool_records(ARCHIVE, "archive44", work, fill, timeout=30)
    out += tool_records(SHELL, "shell44", work, fill, timeout=30)
    if not had_crontab and subprocess.run(["crontab", "-l"], capture_output=True, check=False).returncode == 0:
        subprocess.run(["crontab", "-r"], capture_output=True, check=False)  # bad lines only, but never leave one
    return out


if __name__ == "__main__":
    write_batch(blind44_records)


__all__ = ["BLIND44_SOURCES", "blind44_records"]
