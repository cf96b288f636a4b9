/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvirt XML for every device family, compared with what libvirt documents and validated by
 * libvirt's own schema: virt-xml-validate (Debian's libvirt-clients) knows only whole documents
 * (<domain>, <network>, ...), not a lone <hostdev>, so the elements go into a minimal domain.
 */
#include <sys/wait.h>

#include "qemu.h"
#include "test-vm-fixture.h"
#include "test.h"

static char tmp[] = "/tmp/passthru-test-libvirt-XXXXXX";

/* virt-xml-validate's exit status for the elements inside a minimal q35 domain. */
static int validate(const char *elements)
{
	char path[sizeof(tmp) + 32], cmd[sizeof(path) + 64];
	FILE *f;
	int status;

	snprintf(path, sizeof(path), "%s/domain.xml", tmp);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f,
		"<domain type='kvm'>\n"
		"  <name>passthru-test</name>\n"
		"  <memory unit='MiB'>512</memory>\n"
		"  <os>\n"
		"    <type arch='x86_64' machine='q35'>hvm</type>\n"
		"  </os>\n"
		"  <devices>\n"
		"%s"
		"  </devices>\n"
		"</domain>\n",
		elements);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "virt-xml-validate '%s' domain", path);
	status = system(cmd);
	if (status == -1 || !WIFEXITED(status)) {
		fprintf(stderr, "cannot run virt-xml-validate (Debian package libvirt-clients)\n");
		return -1;
	}
	if (WEXITSTATUS(status) == 127)
		fprintf(stderr, "virt-xml-validate not found: install libvirt-clients\n");
	return WEXITSTATUS(status);
}

static char *xml_of(struct passthru_ctx *ctx, const char *const *names, bool by_id,
		    enum passthru_vm_serial_model model, const char *romfile)
{
	struct passthru_vm_devices *vd = vm_devices(ctx, NULL, names);
	char *xml = NULL;

	passthru_vm_devices_set_usb_by_id(vd, by_id);
	passthru_vm_devices_set_serial_model(vd, model);
	if (romfile)
		CHECK_INT(passthru_vm_devices_set_romfile(vd, NULL, romfile), 0);
	CHECK_INT(passthru_vm_devices_get_libvirt_xml(vd, &xml), -EPERM);
	CHECK_INT(passthru_vm_devices_plan(vd), 0);
	CHECK_INT(passthru_vm_devices_get_libvirt_xml(vd, &xml), 0);
	passthru_vm_devices_unref(vd);
	return xml;
}

static void test_families(struct passthru_ctx *ctx)
{
	const char *pci[] = {"01:00.0", "00:02.0", NULL}, *usb[] = {"1-2", "1-3.1", NULL},
		   *serial[] = {"/dev/ttyS1", NULL};
	_cleanup_free_ char *a = xml_of(ctx, pci, true, PASSTHRU_VM_SERIAL_ISA,
					"/var/lib/roms/it's <a> & \"b\".rom"),
			    *b = xml_of(ctx, usb, true, PASSTHRU_VM_SERIAL_ISA, NULL),
			    *c = xml_of(ctx, usb, false, PASSTHRU_VM_SERIAL_ISA, NULL),
			    *d = xml_of(ctx, serial, true, PASSTHRU_VM_SERIAL_ISA, NULL),
			    *e = xml_of(ctx, serial, true, PASSTHRU_VM_SERIAL_PCI, NULL),
			    *all = NULL, *broken = NULL;

	CHECK_STR(a, "<hostdev mode='subsystem' type='pci' managed='no'>\n"
		     "  <source>\n"
		     "    <address domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>\n"
		     "  </source>\n"
		     "  <rom file='/var/lib/roms/it&apos;s &lt;a&gt; &amp; &quot;b&quot;.rom'/>\n"
		     "</hostdev>\n"
		     "<hostdev mode='subsystem' type='pci' managed='no'>\n"
		     "  <source>\n"
		     "    <address domain='0x0000' bus='0x01' slot='0x00' function='0x1'/>\n"
		     "  </source>\n"
		     "</hostdev>\n"
		     "<hostdev mode='subsystem' type='pci' managed='no'>\n"
		     "  <source>\n"
		     "    <address domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>\n"
		     "  </source>\n"
		     "</hostdev>\n");
	CHECK_STR(b, "<hostdev mode='subsystem' type='usb'>\n"
		     "  <source>\n"
		     "    <vendor id='0x0627'/>\n"
		     "    <product id='0x0001'/>\n"
		     "  </source>\n"
		     "</hostdev>\n"
		     "<hostdev mode='subsystem' type='usb'>\n"
		     "  <source>\n"
		     "    <vendor id='0x0403'/>\n"
		     "    <product id='0x6001'/>\n"
		     "  </source>\n"
		     "</hostdev>\n");
	/* By address: the device numbers mksysfs gives, depth first from 2. */
	CHECK_STR(c, "<hostdev mode='subsystem' type='usb'>\n"
		     "  <source>\n"
		     "    <address bus='1' device='3'/>\n"
		     "  </source>\n"
		     "</hostdev>\n"
		     "<hostdev mode='subsystem' type='usb'>\n"
		     "  <source>\n"
		     "    <address bus='1' device='5'/>\n"
		     "  </source>\n"
		     "</hostdev>\n");
	CHECK_STR(d, "<serial type='dev'>\n"
		     "  <source path='/dev/ttyS1'/>\n"
		     "  <target port='1'/>\n"
		     "</serial>\n");
	CHECK_STR(e, "<serial type='dev'>\n"
		     "  <source path='/dev/ttyS1'/>\n"
		     "  <target type='pci-serial' port='1'>\n"
		     "    <model name='pci-serial'/>\n"
		     "  </target>\n"
		     "</serial>\n");

	/* Each family alone and all together pass libvirt's schema. */
	CHECK_INT(validate(a ?: ""), 0);
	CHECK_INT(validate(b ?: ""), 0);
	CHECK_INT(validate(c ?: ""), 0);
	CHECK_INT(validate(d ?: ""), 0);
	CHECK_INT(validate(e ?: ""), 0);
	if (asprintf(&all, "%s%s%s%s", a ?: "", b ?: "", c ?: "", d ?: "") < 0)
		all = NULL;
	CHECK_INT(validate(all ?: ""), 0);
	/* The validation does look: a managed value libvirt does not know is refused. */
	broken = a ? strdup(a) : NULL;
	if (broken) {
		char *m = strstr(broken, "managed='no'");

		if (m)
			memcpy(m, "managed='xx'", 12);
		CHECK(validate(broken) != 0);
	}
}

static void test_refusals(struct passthru_ctx *ctx)
{
	const char *pci[] = {"01:00.0", NULL};
	struct passthru_vm_devices *vd = vm_devices(ctx, NULL, pci);
	char *xml = NULL;

	/* libvirt wants an absolute ROM path. */
	CHECK_INT(passthru_vm_devices_set_romfile(vd, NULL, "roms/vga.rom"), 0);
	CHECK_INT(passthru_vm_devices_plan(vd), 0);
	CHECK_INT(passthru_vm_devices_get_libvirt_xml(vd, &xml), -EINVAL);
	CHECK(xml == NULL);
	CHECK_INT(passthru_vm_devices_get_libvirt_xml(NULL, &xml), -EINVAL);
	passthru_vm_devices_unref(vd);
}

/* By address with an unreadable device number: refused, never device='0'. */
static void test_usb_no_devnum(struct passthru_ctx *ctx)
{
	const char *usb[] = {"1-3.1", NULL};
	struct passthru_vm_devices *vd;
	char path[4200], *xml = NULL;

	snprintf(path, sizeof(path), "%s/sys/bus/usb/devices/1-3.1/devnum", vm_fixture_root());
	CHECK(unlink(path) == 0);
	vd = vm_devices(ctx, NULL, usb);
	passthru_vm_devices_set_usb_by_id(vd, false);
	CHECK_INT(passthru_vm_devices_plan(vd), 0);
	CHECK_INT(passthru_vm_devices_get_libvirt_xml(vd, &xml), -ENODATA);
	CHECK(xml == NULL);
	CHECK_STR(passthru_vm_devices_get_error(vd),
		  "1-3.1: its device number cannot be read (devnum)");
	free(xml);
	/* By id it needs no device number. */
	passthru_vm_devices_set_usb_by_id(vd, true);
	CHECK_INT(passthru_vm_devices_plan(vd), 0);
	CHECK_INT(passthru_vm_devices_get_libvirt_xml(vd, &xml), 0);
	CHECK(xml && strstr(xml, "<vendor id='0x0403'/>"));
	free(xml);
	passthru_vm_devices_unref(vd);
}

int main(void)
{
	struct passthru_ctx *ctx;

	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	ctx = vm_fixture_ctx();
	test_families(ctx);
	test_refusals(ctx);
	test_usb_no_devnum(ctx);
	passthru_ctx_unref(ctx);
	{
		char cmd[sizeof(tmp) + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
		(void)!system(cmd);
	}
	TEST_DONE();
}
