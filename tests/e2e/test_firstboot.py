#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""test_firstboot.py IMAGE [LOGDIR] - the release image (built without
ADMIN_PASSWORD_FILE) has no password: the first console asks for admin's,
then admin logs in with it and root shares it (console and su only)."""
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

    return run_scenario(vm, scenario)


if __name__ == "__main__":
    sys.exit(main())
