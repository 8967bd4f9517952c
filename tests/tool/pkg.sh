#!/bin/bash
# tests/tool/pkg.sh - the pkg CLI end to end in a temporary directory:
# reproducible build, install, list, files, info, verify, upgrade with a
# locally changed config file, remove, refusals and exit codes.
set -u
PKG=$(cd "${BIN:-out/bin}" && pwd)/pkg
T=$(mktemp -d /tmp/pkg-tool.XXXXXX)
trap 'rm -rf "$T"' EXIT
export SOURCE_DATE_EPOCH=1700000000
. "$(dirname "$0")/lib.sh"

one_line_error() { [ "$(wc -l <"$T/err")" = 1 ] && grep -q "^pkg: $1" "$T/err"; }

cd "$T" || exit 1
mkdir -p st/usr/bin st/etc st/usr/share/doc root
printf 'hello\n' >st/usr/bin/hello; chmod 0755 st/usr/bin/hello
printf 'setting=1\n' >st/etc/hello.conf
ln -s hello st/usr/bin/hi
printf 'doc\n' >st/usr/share/doc/README
head -c 9000000 /dev/urandom >st/usr/share/doc/big # several gzip members
printf '# comment\n/etc/hello.conf f 0640 0 42\nvar d 0755 0 0\n\nvar/spool d 1777 0 0\n' >attrs
B=(build --name hello --version 1.0 --release 1 --arch amd64 --summary "Hello world"
   --depends base,libc --config /etc/hello.conf --attrs attrs)

expect_rc "build" 0 "$PKG" "${B[@]}" st a.pkg
touch st/usr/bin/hello # a new mtime must not change the package
expect_rc "build again" 0 "$PKG" "${B[@]}" st b.pkg
check "two builds give identical bytes" cmp -s a.pkg b.pkg
check "gzip -t accepts the package" gzip -t a.pkg
check "first member is .PKGINFO" bash -c "tar tzf a.pkg | head -1 | grep -qx .PKGINFO"
check "owners are 0:0 in the archive" bash -c "! tar tvzf a.pkg | grep -v ' 0/0 ' | grep -v 'etc/hello.conf'"
check "attrs owner in the archive" bash -c "tar tvzf a.pkg | grep -q ' 0/42 .*etc/hello.conf'"
check "no leftover temp file" bash -c "! ls | grep -q tmp"

expect_rc "install --no-chown (options after the verb)" 0 "$PKG" --root root install --no-chown a.pkg
check "file installed" grep -qx hello root/usr/bin/hello
check "big file installed" cmp -s st/usr/share/doc/big root/usr/share/doc/big
check "symlink installed" test "$(readlink root/usr/bin/hi)" = hello
check "attrs-added directory created" test -d root/var/spool
expect_rc "list" 0 "$PKG" list --root root
check "list output" test "$(cat out)" = "hello 1.0-1"
expect_rc "list --json" 0 "$PKG" --root root list --json
check "list --json output" grep -q '"name":"hello","version":"1.0","release":"1"' out
expect_rc "files" 0 "$PKG" --root root files hello
check "files output" bash -c "grep -qx usr/bin/hello out && grep -qx etc/hello.conf out && [ \$(wc -l <out) = 12 ]"
expect_rc "info NAME" 0 "$PKG" --root root info hello
check "info shows depends" grep -qx 'Depends: base libc' out
expect_rc "info FILE" 0 "$PKG" info ./a.pkg
check "info FILE shows version" grep -qx 'Version: 1.0' out
expect_rc "attrs" 0 "$PKG" --root root attrs
check "attrs lines" bash -c "grep -qx 'f 0640 0 42 0 0 etc/hello.conf' out && grep -qx 'd 1777 0 0 0 0 var/spool' out && grep -qx 'l 0777 0 0 0 0 usr/bin/hi' out"
check "attrs sorted by path" bash -c "awk '{print \$7}' out | LC_ALL=C sort -c"
expect_rc "verify --no-owner on a clean tree" 0 "$PKG" --root root verify --no-owner
expect_rc "verify with owner checks on a --no-chown tree" 1 "$PKG" --root root verify
check "owner difference reported" grep -q 'etc/hello.conf: owner' out

printf 'tampered\n' >root/usr/share/doc/README
chmod 0700 root/usr/bin/hello
rm root/usr/bin/hi
expect_rc "verify detects changes" 1 "$PKG" --root root verify --no-owner hello
check "content change reported" grep -qx 'hello: usr/share/doc/README: content differs' out
check "mode change reported" grep -qx 'hello: usr/bin/hello: mode 0700, want 0755' out
check "missing symlink reported" grep -qx 'hello: usr/bin/hi: missing' out

# Reinstalling the same package repairs the tree.
expect_rc "reinstall repairs" 0 "$PKG" --root root install --no-chown a.pkg
expect_rc "verify after repair" 0 "$PKG" --root root verify --no-owner

# A local config change is reported but is not corruption.
printf 'setting=local\n' >root/etc/hello.conf
expect_rc "verify: local config change is not an error" 0 "$PKG" --root root verify --no-owner
check "local config change reported" grep -qx 'hello: etc/hello.conf: config changed locally' out

# Upgrade: the changed config file stays, the new one lands beside it;
# a file the new version no longer has is removed.
printf 'setting=2\n' >st/etc/hello.conf
rm st/usr/share/doc/README
printf 'new\n' >st/usr/bin/new
expect_rc "build 1.1" 0 "$PKG" "${B[@]/1.0/1.1}" st c.pkg
check "build used version 1.1" bash -c "'$PKG' info ./c.pkg | grep -qx 'Version: 1.1'"
expect_rc "upgrade" 0 "$PKG" --root root install --no-chown c.pkg
check "upgrade mentions the .new file" grep -q 'etc/hello.conf.new' out
check "local config kept" grep -qx 'setting=local' root/etc/hello.conf
check "new config beside it" grep -qx 'setting=2' root/etc/hello.conf.new
check "obsolete file removed" test ! -e root/usr/share/doc/README
check "new file installed" grep -qx new root/usr/bin/new
expect_rc "list after upgrade" 0 "$PKG" --root root list
check "list shows 1.1" test "$(cat out)" = "hello 1.1-1"
check "previous version recorded" bash -c "'$PKG' --root root info hello | grep -qx 'Previous: 1.0-1'"
expect_rc "verify after upgrade" 0 "$PKG" --root root verify --no-owner
check "no journal left" test ! -e root/usr/lib/pkg/txn
check "no temporary names left" bash -c "! find root -name '.pkgtmp~*' -o -name '.pkgnew~*' | grep -q ."

# Issue 12, defect 11: a directory where the new version of a locally
# changed config file goes is refused before the commit point (exit 1,
# nothing written), and the next command works.
rm root/etc/hello.conf.new; mkdir root/etc/hello.conf.new
expect_rc "reinstall with etc/hello.conf.new a directory refused" 1 "$PKG" --root root install --no-chown c.pkg
check "  one line naming it" one_line_error "install c.pkg: etc/hello.conf.new: is a directory on disk"
check "  no journal left" test ! -e root/usr/lib/pkg/txn
expect_rc "  the next command works" 0 "$PKG" --root root verify --no-owner
rmdir root/etc/hello.conf.new
expect_rc "  reinstall once it is gone" 0 "$PKG" --root root install --no-chown c.pkg
check "  the new version beside the local one" grep -qx 'setting=2' root/etc/hello.conf.new
# A file that changes into a directory across an upgrade is a refusal too.
mkdir -p st2/usr/bin/hello; printf 'x\n' >st2/usr/bin/hello/x
expect_rc "build a package with usr/bin/hello a directory" 0 "$PKG" build --name hello --version 3 st2 d3.pkg
expect_rc "  installing it over the file is refused" 1 "$PKG" --root root install --no-chown d3.pkg
check "  one line naming it" one_line_error "install d3.pkg: usr/bin/hello: exists and is not a directory"

# Refusals: one line, the right exit code, nothing changed.
mkdir -p other/usr/bin; printf 'other\n' >other/usr/bin/hello
expect_rc "build conflicting package (options after the arguments)" 0 "$PKG" build other other.pkg --name other --version 1
expect_rc "conflict refused" 1 "$PKG" --root root install other.pkg
check "conflict message" one_line_error "install other.pkg: usr/bin/hello: conflicts with package hello"
check "conflict changed nothing" grep -qx hello root/usr/bin/hello
check "conflicting package not recorded" test ! -e root/usr/lib/pkg/installed/other
head -c 300 a.pkg >trunc.pkg
expect_rc "truncated package refused" 1 "$PKG" --root root install trunc.pkg
check "truncated: one-line error" one_line_error "install trunc.pkg: "
mkdir fresh
expect_rc "refused into a fresh root" 1 "$PKG" --root fresh install trunc.pkg
check "fresh root left empty" test -z "$(ls -A fresh)"
printf 'not a package\n' >junk.pkg
expect_rc "junk refused" 1 "$PKG" --root root install junk.pkg
expect_rc "missing file" 111 "$PKG" --root root install nonexistent.pkg
check "missing file: one-line error" one_line_error "install nonexistent.pkg: "
mkdir -p dev/dev; printf 'dev/dev/null c 0666 0 0 1 3\n' >devattrs
expect_rc "device without --base-files refused at build" 1 "$PKG" build --name d --version 1 --attrs devattrs dev d.pkg
check "device refusal message" one_line_error "build d.pkg: dev/dev/null: device file"
check "refused build left no output" test ! -e d.pkg
# Issue 12, defect 12: device nodes need the installer's permission by
# name (--allow-devices); the package's own base-files flag is not enough.
printf 'dev d 0755 0 0\ndev/mem c 0640 0 15 1 1\n' >memattrs
mkdir -p memst
expect_rc "build a package that claims base-files, with dev/mem" 0 "$PKG" build --name evil --version 1 --base-files --attrs memattrs memst evil.pkg
expect_rc "build base-files with dev/mem" 0 "$PKG" build --name base-files --version 1 --base-files --attrs memattrs memst bfdev.pkg
mkdir droot
expect_rc "device nodes refused without --allow-devices" 1 "$PKG" --root droot install --no-chown bfdev.pkg
check "  one line naming the node and the option" one_line_error "install bfdev.pkg: dev/mem: device node in package base-files, which this install does not allow (--allow-devices)"
check "  nothing written" test -z "$(ls -A droot)"
expect_rc "a package claiming base-files refused when only base-files is allowed" 1 "$PKG" --root droot install --no-chown --allow-devices base-files evil.pkg
expect_rc "base-files installed with --allow-devices base-files" 0 "$PKG" --root droot install --no-chown --allow-devices base-files bfdev.pkg
expect_rc "  attrs" 0 "$PKG" --root droot attrs
check "  attrs lists the node" grep -qx 'c 0640 0 15 1 1 dev/mem' out
expect_rc "--allow-devices without a package name" 100 "$PKG" --root droot install --allow-devices '../x' bfdev.pkg
printf 'usr/bin/nothere f 0755 0 0\n' >badattrs
expect_rc "attrs cannot add a file" 1 "$PKG" build --name x --version 1 --attrs badattrs st x.pkg
check "attrs add message" one_line_error "build x.pkg: badattrs: line 1: usr/bin/nothere: not in the staging tree"
printf 'usr/bin/hello d 0755 0 0\n' >badattrs
expect_rc "attrs type must match the tree" 1 "$PKG" build --name x --version 1 --attrs badattrs st x.pkg
printf 'usr/bin/hello f 0755 0\n' >badattrs
expect_rc "attrs line with a missing field" 1 "$PKG" build --name x --version 1 --attrs badattrs st x.pkg
check "attrs syntax message" one_line_error "build x.pkg: badattrs: line 1: expected 'PATH TYPE MODE UID GID"
mkdir -p nl; printf x >"nl/bad
name"
expect_rc "newline in a path refused at build" 1 "$PKG" build --name nl --version 1 nl nl.pkg
check "newline refusal is one line" one_line_error "build nl.pkg: bad?name: path not allowed"
# Issue 12, defect 9: the package database is not package content.
mkdir -p dbw/usr/lib/pkg/installed; printf 'pkgformat 1\n' >dbw/usr/lib/pkg/installed/hello
expect_rc "a tree with files in the package database refused at build" 1 "$PKG" build --name dbw --version 1 dbw dbw.pkg
check "database refusal names the path" one_line_error "build dbw.pkg: usr/lib/pkg: path not allowed in a package: inside the package database"
expect_rc "usage: missing --version" 100 "$PKG" build --name x st x.pkg
expect_rc "usage: unknown verb" 100 "$PKG" frobnicate
expect_rc "usage: unknown option" 100 "$PKG" --root root list --bogus
expect_rc "info of a package not installed" 1 "$PKG" --root root info nothere
expect_rc "remove of a package not installed" 1 "$PKG" --root root remove nothere
expect_rc "--help" 0 "$PKG" --help
check "--help documents exit codes" grep -q '111  I/O or system error' out

# No entry is reached through a symlink (pkg/FORMAT.md, section 5): the
# apply phase after the commit point resolves each parent again, and the
# package's own symlinks, renamed into place by then, could send it
# elsewhere (into the database), or make it fail and wedge pkg. Refused
# in prepare: exit 1, one line naming the entry and the symlink.
mkdir -p bf/usr/bin; ln -s usr/bin bf/bin
mkdir -p tool/bin; printf 'ls\n' >tool/bin/ls
expect_rc "build base-files with bin -> usr/bin" 0 "$PKG" build --name base-files --version 1 --base-files bf bf.pkg
expect_rc "build a package with bin/ls" 0 "$PKG" build --name ab --version 1 tool ab.pkg
expect_rc "install base-files (options after the files)" 0 "$PKG" install bf.pkg --no-chown --root root
expect_rc "bin/ls through bin -> usr/bin refused" 1 "$PKG" install ab.pkg --no-chown --root root
check "  one line naming the entry and the symlink" one_line_error "install ab.pkg: bin/ls: reached through the symlink bin"
check "  nothing written" test ! -e root/usr/bin/ls -a ! -e root/usr/lib/pkg/txn -a ! -e root/usr/lib/pkg/installed/ab
check "bin is still a symlink" test -L root/bin
expect_rc "attrs" 0 "$PKG" --root root attrs
check "attrs lists bin as the symlink" grep -qx 'l 0777 0 0 0 0 bin' out
# Reviewer's 2a: file bin/tool and directory usr/bin/tool/ (EISDIR after
# the commit point before, then exit 4 (I/O error, now 111) for every command).
mkdir -p tool2/bin tool2/usr/bin/tool; printf 't\n' >tool2/bin/tool
expect_rc "build bin/tool + usr/bin/tool/" 0 "$PKG" build --name t2 --version 1 tool2 t2.pkg
expect_rc "  refused" 1 "$PKG" --root root install --no-chown t2.pkg
check "  one line naming it" one_line_error "install t2.pkg: bin/tool: reached through the symlink bin"
expect_rc "  the next command works" 0 "$PKG" --root root list
# Reviewer's 2c: a config file through a symlink (its PATH.new was checked
# only literally).
mkdir -p cfg/cf; printf 'c=1\n' >cfg/cf/x.conf; ln -s etc root/cf
expect_rc "build a package with config cf/x.conf" 0 "$PKG" build --name cfg --version 1 --config /cf/x.conf cfg cfg.pkg
expect_rc "  cf/x.conf through cf -> etc refused" 1 "$PKG" --root root install --no-chown cfg.pkg
check "  one line naming it" one_line_error "install cfg.pkg: cf/x.conf: reached through the symlink cf"
rm root/cf
# Reviewer's 1 and 2b: v1 ships a -> safe, z -> a, safe/installed/; v2
# ships a -> usr/lib/pkg (or a -> nowhere), z/ and z/installed/ 0777. In
# prepare z/installed was safe/installed; at apply, after a was renamed,
# usr/lib/pkg/installed got mode 0777 (or ENOENT wedged pkg).
mkdir -p ln1/safe/installed; ln -s safe ln1/a; ln -s a ln1/z
mkdir -p ln2/z/installed; ln -s usr/lib/pkg ln2/a; printf 'z/installed d 0777 0 0\n' >lnattrs
mkdir -p ln3/z/installed; ln -s nowhere ln3/a
expect_rc "build ln 1" 0 "$PKG" build --name ln --version 1 ln1 ln1.pkg
expect_rc "build ln 2 (a -> usr/lib/pkg)" 0 "$PKG" build --name ln --version 2 --attrs lnattrs ln2 ln2.pkg
expect_rc "build ln 3 (a -> nowhere)" 0 "$PKG" build --name ln --version 3 --attrs lnattrs ln3 ln3.pkg
mkdir lnroot
expect_rc "install ln 1" 0 "$PKG" --root lnroot install --no-chown ln1.pkg
dbmode=$(stat -c %a lnroot/usr/lib/pkg/installed)
expect_rc "upgrade to a -> usr/lib/pkg refused" 1 "$PKG" --root lnroot install --no-chown ln2.pkg
check "  one line naming z/installed and z" one_line_error "install ln2.pkg: z/installed: reached through the symlink z"
check "  the database keeps its mode" test "$(stat -c %a lnroot/usr/lib/pkg/installed)" = "$dbmode"
check "  a still leads to safe" test "$(readlink lnroot/a)" = safe
expect_rc "upgrade to a -> nowhere refused" 1 "$PKG" --root lnroot install --no-chown ln3.pkg
expect_rc "  the next command works" 0 "$PKG" --root lnroot verify --no-owner
check "  still version 1" grep -qx 'ln 1-1' <("$PKG" --root lnroot list)
# Reviewer's 3: base-files ships var/lib 0755, q ships l -> var, p ships
# l/ and l/lib/ 0777: conflicts were checked on literal paths only.
mkdir -p bf3/var/lib q3 p3/l/lib; ln -s var q3/l; printf 'l/lib d 0777 0 0\n' >p3attrs
expect_rc "build base-files with var/lib" 0 "$PKG" build --name base-files --version 1 --base-files bf3 bf3.pkg
expect_rc "build q (l -> var)" 0 "$PKG" build --name q --version 1 q3 q3.pkg
expect_rc "build p (l/lib 0777)" 0 "$PKG" build --name p --version 1 --attrs p3attrs p3 p3.pkg
mkdir r3
expect_rc "install base-files and q" 0 "$PKG" --root r3 install --no-chown bf3.pkg q3.pkg
expect_rc "p through l -> var refused" 1 "$PKG" --root r3 install --no-chown p3.pkg
check "  one line naming it" one_line_error "install p3.pkg: l/lib: reached through the symlink l"
check "  var/lib keeps its mode" test "$(stat -c %a r3/var/lib)" = 755
expect_rc "  verify blames nobody" 0 "$PKG" --root r3 verify --no-owner

# Issue 12, defect 13: two packages with one directory: same mode and
# owner, or the second is refused (before, the last one won silently and
# verify blamed the first).
mkdir -p sh1/opt/shared sh2/opt/shared sh3/opt/shared
printf '1\n' >sh1/opt/shared/one; printf '2\n' >sh2/opt/shared/two; printf '3\n' >sh3/opt/shared/three
chmod 0755 sh1/opt/shared sh2/opt/shared sh3/opt/shared
printf 'opt/shared d 0700 0 0\n' >shattrs
expect_rc "build sh1" 0 "$PKG" build --name sh1 --version 1 sh1 sh1.pkg
expect_rc "build sh2 (opt/shared 0700)" 0 "$PKG" build --name sh2 --version 1 --attrs shattrs sh2 sh2.pkg
expect_rc "build sh3 (opt/shared 0755, as sh1)" 0 "$PKG" build --name sh3 --version 1 sh3 sh3.pkg
expect_rc "install sh1" 0 "$PKG" --root root install --no-chown sh1.pkg
expect_rc "a shared directory with another mode is refused" 1 "$PKG" --root root install --no-chown sh2.pkg
check "  one line naming both" one_line_error "install sh2.pkg: opt/shared: directory 0700 0:0, package sh1 has it 0755 0:0"
check "  the directory keeps its mode" test "$(stat -c %a root/opt/shared)" = 755
expect_rc "the same directory with the same mode is shared" 0 "$PKG" --root root install --no-chown sh3.pkg
expect_rc "  verify blames nobody" 0 "$PKG" --root root verify --no-owner sh1 sh3
expect_rc "  remove sh1 sh3" 0 "$PKG" --root root remove sh1 sh3

# A second pkg process while the database is locked.
flock root/usr/lib/pkg/lock sleep 3 &
sleep 0.5
expect_rc "database locked by another process" 111 "$PKG" --root root install --no-chown a.pkg
check "lock message" one_line_error "install root: .*locked by another pkg process"
wait

# Issue 12, defect 10: a garbage record is skipped and named, never a
# reason for every command to fail; the install beside it succeeds.
printf 'garbage\n' >root/usr/lib/pkg/installed/junk
expect_rc "list with a garbage record" 0 "$PKG" --root root list
check "  lists the good packages" grep -qx 'hello 1.1-1' out
check "  names the skipped record on stderr" one_line_error "list root/usr/lib/pkg/installed/junk: unreadable record skipped: line 1: not 'pkgformat 1'"
expect_rc "verify reports the garbage record as a difference" 1 "$PKG" --root root verify --no-owner
check "  on its own line" grep -qx "junk: root/usr/lib/pkg/installed/junk: unreadable record: line 1: not 'pkgformat 1'" out
expect_rc "verify NAME of the garbage record" 1 "$PKG" --root root verify junk
expect_rc "attrs with a garbage record fails (its list is incomplete)" 111 "$PKG" --root root attrs
expect_rc "install beside a garbage record" 0 "$PKG" --root root install --no-chown c.pkg
check "  says nothing failed" bash -c "! grep -q 'malformed input' '$T/err'"
expect_rc "remove of the garbage record" 0 "$PKG" --root root remove junk
check "  says only the record went" grep -q 'remove junk: the record was unreadable' out
check "  the record is gone" test ! -e root/usr/lib/pkg/installed/junk
expect_rc "list after clearing it" 0 "$PKG" --root root list
check "  without a warning" test ! -s err
# A FIFO among the records: open() of it blocked for ever (issue 12 #15,
# same class); now skipped and named like any unreadable record.
mkfifo root/usr/lib/pkg/installed/fifo
expect_rc "list with a FIFO as a record (no hang: 124)" 0 timeout 10 "$PKG" --root root list
check "  names it" one_line_error "list root/usr/lib/pkg/installed/fifo: unreadable record skipped: not a regular file"
expect_rc "verify with a FIFO as a record (no hang: 124)" 1 timeout 10 "$PKG" --root root verify --no-owner
expect_rc "remove of the FIFO record" 0 timeout 10 "$PKG" --root root remove fifo
check "  it is gone" test ! -e root/usr/lib/pkg/installed/fifo
rm -f root/usr/lib/pkg/installed/fifo # a regression must not hang the rest
# A directory as a record: the rename of the new record over it, or its
# unlink, failed after the commit point (EISDIR), and every later command
# failed at exit 4 (I/O error, now 111). Now refused before anything is written; an empty one
# is removed by `pkg remove`.
mkdir root/usr/lib/pkg/installed/junkd
expect_rc "remove of an empty directory record" 0 "$PKG" --root root remove junkd
check "  says only the record went" grep -q 'remove junkd: the record was unreadable' out
check "  it is gone" test ! -e root/usr/lib/pkg/installed/junkd
mkdir -p root/usr/lib/pkg/installed/junkd/sub jd/opt; printf 'j\n' >jd/opt/junkd
expect_rc "remove of a non-empty directory record refused" 1 "$PKG" --root root remove junkd
check "  a line naming it (after the skipped-record warning)" grep -qx "pkg: remove junkd: usr/lib/pkg/installed/junkd: the record is a directory that is not empty" err
check "  no journal" test ! -e root/usr/lib/pkg/txn
expect_rc "build junkd" 0 "$PKG" build --name junkd --version 1 jd junkd.pkg
expect_rc "install over a directory record refused" 1 "$PKG" --root root install --no-chown junkd.pkg
check "  a line naming it (after the skipped-record warning)" grep -q "^pkg: install junkd.pkg: usr/lib/pkg/installed/junkd: the record is a directory" err
check "  nothing written" test ! -e root/opt/junkd -a ! -e root/usr/lib/pkg/txn
expect_rc "  the next command works" 0 "$PKG" --root root list
# A remove journal for it (an older pkg, or a crash): recovery is not fatal.
mkdir root/usr/lib/pkg/txn; printf 'junkd\n' >root/usr/lib/pkg/txn/remove
expect_rc "recovery of a remove journal with a directory record" 0 "$PKG" --root root list
check "  journal gone" test ! -e root/usr/lib/pkg/txn
rm -rf root/usr/lib/pkg/installed/junkd
expect_rc "  installs once it is gone" 0 "$PKG" --root root install --no-chown junkd.pkg
expect_rc "  remove junkd" 0 "$PKG" --root root remove junkd

expect_rc "remove" 0 "$PKG" --root root remove hello
check "files removed" test ! -e root/usr/bin/hello -a ! -e root/usr/bin/new -a ! -L root/usr/bin/hi
check "locally changed config kept on remove" grep -qx 'setting=local' root/etc/hello.conf
expect_rc "list after remove" 0 "$PKG" --root root list
check "list shows only base-files" test "$(cat out)" = "base-files 1-1"

# --root without a directory is a usage error (2), one "pkg: verb object: reason" line
expect_rc "--root with no value" 100 "$PKG" list --root
check "  message names the verb and --root" one_line_error "list --root: no directory given$"
expect_rc "--root with an empty value" 100 "$PKG" --root= install a.pkg
check "  message names the verb and --root" one_line_error "install --root: no directory given$"
expect_rc "--root that is not a directory" 111 "$PKG" --root a.pkg list
check "  message names the verb, the root and the reason" one_line_error "list a.pkg: root a.pkg: Not a directory$"

done_testing
