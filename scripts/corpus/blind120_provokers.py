"""Hundred-and-twentieth batch of blind provokers: infrastructure command-line tools from Debian, each failing for a
cause provoked here (blind120_support). qemu-img (missing, unreadable and damaged images, a missing backing file, a
bad size, an image locked by qemu-io, a full and a read-only tmpfs, NBD to a closed port and to a peer that hangs
up); buildah (a COPY source missing from the context, an unknown instruction, a bad duration, registry fakes
answering 401, 403, 429 and 503, a closed registry port, storage on a full tmpfs); crun (a missing bundle, truncated
JSON, an unknown OCI version); lxc-start and lxc-execute (an unsupported key, a bad network type, a missing rcfile
or include); virsh (a closed TCP port, a stale UNIX socket, a peer that hangs up, malformed domain XML or a bad
value, a read-only connection, the test driver's memory and pool limits); puppet apply (syntax errors, unknown
functions, types and classes, wrong function arity as code defects; Hiera data of the wrong type or broken YAML; a
missing parent directory, a full and a read-only tmpfs, a file source on a closed port); cloud-init schema and
query; journalctl (missing, unreadable and damaged journals, bad arguments); update-alternatives (under --root);
debconf-set-selections against a private debconf database."""

from __future__ import annotations

from blind120_support import AS_NOBODY, Deploy, prepare, registry
from checked import ToolCase, tool_records
from common import Env, Record, write_batch

BLIND120_SOURCES = frozenset({"qemu-img120", "buildah120", "crun120", "lxc120", "virsh120", "puppet120",
                              "cloud-init120", "journalctl120", "update-alternatives120", "debconf120"})

BUILDAH = "buildah --root @T@/buildah/root --runroot @T@/buildah/run --storage-driver vfs"
BUILDAH_FULL = "buildah --root @BFULL@/storage --runroot @T@/buildah/run-full --storage-driver vfs"
PUPPET = ("unshare -pf --mount-proc puppet apply --color=false --detailed-exitcodes --confdir @T@/puppet/conf "
          "--vardir @T@/puppet/var --logdir @T@/puppet/log --rundir @T@/puppet/run --codedir @T@/puppet/code")
ALT = "update-alternatives --root @T@/alternatives"
DEBCONF = "DEBCONF_SYSTEMRC=@T@/debconf/debconf.conf"


def _qemu_img() -> list[ToolCase]:
    return [
        ("qemu_img_info_missing", "filesystem", "No such file", "qemu-img info /var/lib/libvirt/images/web-07.qcow2"),
        ("qemu_img_unsupported_version", "validation", "Unsupported qcow2 version",
         "qemu-img info @T@/images/mail-01.qcow2"),
        ("qemu_img_bad_size", "validation", "Invalid image size",
         "qemu-img create -f qcow2 @T@/images/cache-01.qcow2 40X"),
        ("qemu_img_backing_missing", "filesystem", "No such file",
         "qemu-img info --backing-chain @T@/images/web-02.qcow2"),
        ("qemu_img_unreadable", "filesystem", "Permission denied",
         f"{AS_NOBODY} qemu-img info @T@/images/vault-01.qcow2"),
        ("qemu_img_locked", "resource", "lock",
         "qemu-io -c 'sleep 4000' @T@/images/db-01.qcow2 & sleep 1\n"
         "qemu-img resize @T@/images/db-01.qcow2 +20G; rc=$?; wait; exit $rc"),
        ("qemu_img_full_disk", "resource", "No space left",
         "qemu-img create -f qcow2 -o preallocation=full @FULL@/scratch-01.qcow2 64M"),
        ("qemu_img_read_only", "filesystem", "Read-only file system",
         "qemu-img create -f qcow2 @RO@/images/scratch-02.qcow2 10G"),
        ("qemu_img_nbd_refused", "network", "Connection refused",
         "qemu-img convert -O qcow2 nbd://127.0.0.1:@CLOSED@/vm-disk-0 @T@/images/restore.qcow2"),
        ("qemu_img_nbd_eof", "network", "end-of-file|End of file", "qemu-img info nbd://127.0.0.1:@CLOSEP@/vm-disk-0"),
    ]


def _buildah() -> list[ToolCase]:
    ctx = "@T@/build/billing-api"
    pull = f"{BUILDAH} pull --retry 0 --tls-verify=false 127.0.0.1:@PORT@/platform/billing-api:2.14.0"
    return [
        ("buildah_copy_missing_in_context", "filesystem", "no such file",
         f"{BUILDAH} build -f {ctx}/Containerfile {ctx}"),
        ("buildah_unknown_instruction", "validation", "Unknown instruction",
         f"{BUILDAH} build -f {ctx}/Containerfile.typo {ctx}"),
        ("buildah_bad_duration", "validation", "invalid duration",
         f"{BUILDAH} build -f {ctx}/Containerfile.health {ctx}"),
        ("buildah_registry_refused", "network", "connection refused", pull.replace("@PORT@", "@CLOSED@")),
        ("buildah_registry_401", "auth", "unauthorized", pull.replace("@PORT@", "@REG_unauthorized@")),
        ("buildah_registry_403", "auth", "denied", pull.replace("@PORT@", "@REG_denied@")),
        ("buildah_registry_429", "resource", "toomanyrequests", pull.replace("@PORT@", "@REG_toomany@")),
        ("buildah_registry_503", "service", "503", pull.replace("@PORT@", "@REG_unavailable@")),
        ("buildah_copy_full_disk", "resource", "no space left",
         f"c=$({BUILDAH_FULL} from --name billing-api-build scratch) && "
         f"{BUILDAH_FULL} copy \"$c\" {ctx}/model.bin /opt/models/ranker.bin"),
    ]


def _crun() -> list[ToolCase]:
    state = "crun --root @T@/oci/state run"
    return [
        ("crun_bundle_missing", "filesystem", "No such file", f"{state} -b /srv/containers/billing-api billing-api-2"),
        ("crun_config_truncated", "validation", "parse error", f"{state} -b @T@/oci/parse billing-api-3"),
        ("crun_unknown_version", "validation", "unknown version", f"{state} -b @T@/oci/version billing-api-4"),
    ]


def _lxc() -> list[ToolCase]:
    lxc = "-P @T@/lxc/containers"
    return [
        ("lxc_unsupported_key", "validation", "Unsupported config key",
         f"lxc-start {lxc} -n ci-runner-03 -f @T@/lxc/key.conf -F"),
        ("lxc_bad_net_type", "validation", "Invalid network type",
         f"lxc-start {lxc} -n ci-runner-08 -f @T@/lxc/nettype.conf -F"),
        ("lxc_rcfile_missing", "filesystem", "No such file",
         f"lxc-execute {lxc} -n ci-runner-05 -f /etc/lxc/ci-runner-05.conf -- /usr/bin/make -C /srv/ci test"),
        ("lxc_include_missing", "filesystem", "No such file",
         f"lxc-start {lxc} -n ci-runner-09 -f @T@/lxc/include.conf -F"),
    ]


def _virsh() -> list[ToolCase]:
    test = "virsh -c test:///default"
    return [
        ("virsh_tcp_refused", "network", "Connection refused",
         "virsh -c qemu+tcp://127.0.0.1:@CLOSED@/system list --all"),
        ("virsh_stale_socket", "network", "Connection refused", "virsh -c 'qemu:///system?socket=@SOCK@' list --all"),
        ("virsh_peer_hangs_up", "network", "End of file|closed|Input/output",
         "virsh -c qemu+tcp://127.0.0.1:@CLOSEP@/system dominfo db-replica-1"),
        ("virsh_define_malformed_xml", "validation", "tag mismatch", f"{test} define @T@/libvirt/tags.xml"),
        ("virsh_define_bad_memory", "validation", "Invalid value", f"{test} define @T@/libvirt/memory.xml"),
        ("virsh_read_only_destroy", "auth", "read only access prevents", "virsh -r -c test:///default destroy test"),
        ("virsh_setmem_over_max", "validation", "higher than max memory", f"{test} setmem test 96G"),
        ("virsh_pool_out_of_space", "resource", "Not enough free space",
         f"{test} vol-create-as default-pool pg-archive.qcow2 500G --format qcow2"),
    ]


def _puppet() -> list[ToolCase]:
    m = "@T@/puppet/manifests"
    return [
        ("puppet_syntax_error", "programming", "Syntax error", f"{PUPPET} {m}/syntax.pp"),
        ("puppet_unknown_function", "programming", "Unknown function", f"{PUPPET} {m}/function.pp"),
        ("puppet_unknown_type", "programming", "Resource type not found", f"{PUPPET} -e 'include profile::nginx'"),
        ("puppet_unknown_class", "programming", "Could not find class", f"{PUPPET} -e 'include profile::keepalived'"),
        ("puppet_function_arity", "programming", "expects", f"{PUPPET} -e 'include profile::haproxy'"),
        ("puppet_hiera_wrong_types", "validation", "expects",
         f"{PUPPET.replace('/puppet/code', '/puppet/code-types')} -e 'include profile::app'"),
        ("puppet_hiera_bad_yaml", "validation", "Unable to parse",
         f"{PUPPET.replace('/puppet/code', '/puppet/code-yaml')} -e 'include profile::app'"),
        ("puppet_parent_missing", "filesystem", "No such file", f"{PUPPET} {m}/parent.pp"),
        ("puppet_full_disk", "resource", "No space left", f"{PUPPET} {m}/full.pp"),
        ("puppet_read_only", "filesystem", "Read-only file system", f"{PUPPET} {m}/ro.pp"),
        ("puppet_source_refused", "network", "Connection refused", f"{PUPPET} {m}/source.pp"),
    ]


def _cloud_init() -> list[ToolCase]:
    ci = "@T@/cloud-init"
    return [
        ("cloud_init_schema_types", "validation", "schema errors", f"cloud-init schema --config-file {ci}/types.yaml"),
        ("cloud_init_schema_yaml", "validation", "not valid yaml", f"cloud-init schema --config-file {ci}/yaml.yaml"),
        ("cloud_init_schema_missing", "filesystem", "does not exist",
         f"cloud-init schema --config-file {ci}/seed/nocloud-net/user-data"),
        ("cloud_init_schema_unreadable", "filesystem", "PermissionError",
         f"{AS_NOBODY} cloud-init schema --config-file {ci}/private.yaml"),
        ("cloud_init_query_missing", "filesystem", "Missing instance-data",
         f"cloud-init query --instance-data {ci}/run/instance-data.json v1.region"),
        ("cloud_init_query_corrupt", "validation", "JSONDecodeError",
         f"cloud-init query --instance-data {ci}/instance-data.json v1.region"),
    ]


def _journalctl() -> list[ToolCase]:
    j = "journalctl --no-pager"
    return [
        ("journalctl_directory_missing", "filesystem", "No such file",
         f"{j} --directory=@T@/journal/0b1c2d3e4f5a6b7c -n 200"),
        ("journalctl_file_damaged", "validation", "Bad message",
         f"{j} --file=@T@/journal/3f9c0a7e5d2b4c18/system@0005f1d2e3a4b5c6-7d8e9f0a1b2c3d4e.journal"),
        ("journalctl_bad_timestamp", "validation", "Failed to parse timestamp",
         f"{j} -u billing-api.service --since '2026-11-31 25:00'"),
        ("journalctl_bad_priority", "validation", "Unknown log level", f"{j} -p critical+ -u postgresql.service"),
        ("journalctl_directory_unreadable", "filesystem", "Permission denied",
         f"{AS_NOBODY} {j} --directory=@T@/journal/audit"),
        ("journalctl_file_unreadable", "filesystem", "Permission denied",
         f"{AS_NOBODY} {j} --file=@T@/journal/node-04/user-1000.journal"),
    ]


def _alternatives() -> list[ToolCase]:
    return [
        ("alternatives_path_missing", "filesystem", "doesn't exist",
         f"{ALT} --install /usr/local/bin/java java /opt/jdk-21.0.5/bin/java 2100"),
        ("alternatives_bad_priority", "validation", "must be an integer",
         f"{ALT} --install /usr/local/bin/java java /opt/jdk-21.0.5/bin/java high"),
        ("alternatives_not_registered", "validation", "not registered", f"{ALT} --set python3 /usr/bin/python3.9"),
        ("alternatives_corrupt_admin_file", "validation", "corrupt", f"{ALT} --display node"),
        ("alternatives_read_only", "filesystem", "Read-only file system",
         "update-alternatives --root @RO@/alternatives --install /usr/local/bin/kubectl kubectl "
         "/usr/bin/kubectl-1.31 131"),
        ("alternatives_full_disk", "resource", "No space left",
         "update-alternatives --root @FULL@/alternatives --install /usr/local/bin/kubectl kubectl "
         "/usr/bin/kubectl-1.31 131"),
    ]


def _debconf() -> list[ToolCase]:
    return [
        ("debconf_parse_error", "validation", "parse error",
         f"{DEBCONF} debconf-set-selections @T@/debconf/mail.preseed"),
        ("debconf_locked", "resource", "locked",
         "flock @T@/debconf/config.dat sleep 4 & sleep 0.5\n"
         f"{DEBCONF} debconf-set-selections @T@/debconf/ok.preseed; rc=$?; wait; exit $rc"),
        ("debconf_unwritable", "filesystem", "Permission denied",
         f"{AS_NOBODY} env {DEBCONF} debconf-set-selections @T@/debconf/ok.preseed"),
        ("debconf_full_disk", "resource", "No space left",
         "DEBCONF_SYSTEMRC=@T@/debconf/full.conf debconf-set-selections @T@/debconf/postfix-relays.preseed"),
    ]


def blind120_records(env: Env) -> list[Record]:
    from servers import mount_tmpfs

    d: Deploy = prepare(env)
    bfull = mount_tmpfs(env, "bfull120", "size=2m")
    ports = {f"@REG_{mode}@": str(registry(env, mode)) for mode in ("unauthorized", "denied", "toomany", "unavailable")}
    subs = {"@T@": str(d.root), "@FULL@": str(d.full), "@RO@": str(d.ro), "@BFULL@": str(bfull),
            "@CLOSED@": str(env.closed_port), "@CLOSEP@": str(d.hangup_port), "@SOCK@": str(d.stale_socket), **ports}

    def fill(text: str) -> str:
        for key, value in subs.items():
            text = text.replace(key, value)
        return text

    out: list[Record] = []
    for source, cases in (("qemu-img120", _qemu_img()), ("buildah120", _buildah()), ("crun120", _crun()),
                          ("lxc120", _lxc()), ("virsh120", _virsh()), ("puppet120", _puppet()),
                          ("cloud-init120", _cloud_init()), ("journalctl120", _journalctl()),
                          ("update-alternatives120", _alternatives()), ("debconf120", _debconf())):
        out += tool_records(cases, source, d.root, fill=fill, timeout=120)
    return out


if __name__ == "__main__":
    write_batch(blind120_records)


__all__ = ["BLIND120_SOURCES", "blind120_records"]
