# Guest job: the GPU-like slot (VGA 01:00.0 on bochs-drm + HD audio 01:00.1 on snd_hda_intel,
# one IOMMU group): refused without --group, both bound with it, both given back by unbind.
. /testbed/lib.sh
vga=0000:01:00.0
hda=0000:01:00.1
expect_driver $vga bochs-drm "setup"
expect_driver $hda snd_hda_intel "setup"

run single passthru bind 01:00.0
expect_rc 1 "bind one function of the group"
expect_in "0000:01:00.1 (snd_hda_intel)" "$err" "names the sibling"
expect_in "passthru bind --group 0000:01:00.0" "$err" "hint"
expect_driver $vga bochs-drm "refused bind"
expect_driver $hda snd_hda_intel "refused bind"

# The boot VGA carries the console: a guard. Freeing the console as its hint says leaves the
# framebuffer guard; the host can do without both here, so the bind is forced (and logged).
run console passthru bind --group 01:00.0
expect_rc 1 "bind the console's VGA"
expect_in "console" "$err" "console guard"
expect_driver $vga bochs-drm "refused bind"
for v in /sys/class/vtconsole/vtcon*; do
	grep -q "frame buffer" "$v/name" && echo 0 >"$v/bind"
done

run dry passthru bind --dry-run --force --group 01:00.0
expect_rc 0 "dry run"
expect_in "0000:01:00.1" "$out" "dry run lists the sibling"
expect_driver $vga bochs-drm "dry run changes nothing"

run group passthru bind --force --group 01:00.0
expect_rc 0 "bind --group"
grep -q "0000:01:00.0: forced past a guard" /run/passthru/log && pass "forced guard logged" ||
	fail "forced guard not in /run/passthru/log"
expect_in "bochs-drm -> vfio-pci" "$out" "bind --group"
expect_in "snd_hda_intel -> vfio-pci" "$out" "bind --group"
expect_driver $vga vfio-pci "bind --group"
expect_driver $hda vfio-pci "bind --group"
expect_override $vga vfio-pci "bind --group"
expect_override $hda vfio-pci "bind --group"

run ungroup passthru unbind --group 01:00.0
expect_rc 0 "unbind --group"
expect_driver $vga bochs-drm "unbind --group"
expect_driver $hda snd_hda_intel "unbind --group"
expect_override $vga "(null)" "unbind --group"
expect_override $hda "(null)" "unbind --group"
finish
