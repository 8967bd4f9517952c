#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""test_firstboot.py IMAGE [LOGDIR] - the release image (built without
ADMIN_PASSWORD_FILE) has no password: the first console asks for admin's,
then admin logs in with it and root shares it (console and su only). The
password lives on the data partition and survives a reboot."""
import sys

from vm import VM, check, run_scenario

PASSWORD = "Firstboot-Pw-42"



def main():
    image = sys.argv[1]
    logdir = sys.argv[2] if len(sys.argv) > 2 else None
    vm = VM(image, firmware="bios", name="firstboot", logdir=logdir)

    def scenario(vm):
        vm.expect(r"the admin account has no password yet", 240)
        check(True, "first boot asks for the admin password on the serial console")
        vm.first_password(PASSWORD, confirm=PASSWORD + "-typo")
        vm.expect(r"Please try again", 60)
        check(True, "a mistyped confirmation asks again")
        vm.first_password(PASSWORD)
        vm.login("admin", PASSWORD, timeout=120)
        check(True, "admin logs in with the password set at first boot")
        vm.su(PASSWORD)
        rc, out = vm.run("grep -c '^admin:\\$6\\$' /etc/shadow; grep -c '^root:\\$6\\$' /etc/shadow")
        check(out.split() == ["1", "1"], "admin and root now have SHA-512 crypt hashes")
        # The slot is read-only: the hashes are in the /var copy, the link
        # is intact and the factory default still says "no password".
        rc, out = vm.run("grep -c '^admin:\\$6\\$' /var/etc/shadow; grep -c '^root:\\$6\\$' /var/etc/shadow; "
                         "readlink /etc/shadow; stat -c '%u %a' /var/etc/shadow; "
                         "grep -c '^admin:!' /usr/share/factory/etc/shadow")
        check(out.split() == ["1", "1", "../var/etc/shadow", "0", "600", "1"],
              f"they are in /var/etc/shadow (root's, 0600), /etc/shadow still links there ({out.split()})")
        console = open(vm.logpath, encoding="utf-8", errors="replace").read()
        bad = [l.strip() for l in console.splitlines() if "read-only file system" in l.lower()]
        check(not bad, f"setting the password wrote nothing to the read-only slot ({bad[:3]})")
        keys = ("for i in $(seq 60); do [ -s /var/etc/mgmtd/server.crt ] && break; sleep 1; done; "
                "[ -s /var/etc/mgmtd/server.crt ] && cat /var/etc/dropbear/*_host_key /var/etc/mgmtd/server.crt | sha256sum")
        rc, before = vm.run(keys)
        vm.reboot()
        vm.login("admin", PASSWORD, timeout=120)
        check(True, "after a reboot admin logs in with the same password, with no first-boot prompt")
        vm.su(PASSWORD)
        check(True, "  and root's (su)")
        rc, after = vm.run(keys)
        check(rc == 0 and before.split() == after.split(), "the SSH host keys and the TLS certificate are kept")

    return run_scenario(vm, scenario)


if __name__ == "__main__":
    sys.exit(main())
