// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* VMM discovery: drive options, VMM names, and inspecting a live process. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include "tap.h"
#include "vmm.h"

int main(void)
{
	static const char c1[] = "qemu-system-x86_64\0-drive\0file=/img/a.raw,if=none,id=d0,format=raw\0"
				 "-blockdev\0driver=file,node-name=f1,filename=x,file=/img/b.qcow2\0-m\0512\0";
	static const char c2[] = "qemu-system-x86_64\0-drive\0if=none,file=/img/c.raw,cache=none\0";
	static const char c3[] = "qemu-system-x86_64\0-drive\0if=none,snapshot.file=/no\0";
	char out[256], path[] = "/tmp/hcivmmXXXXXX", buf[8192] = {0};
	struct hci_vmm_info *vi = calloc(1, sizeof(*vi));
	int fd, found = 0;

	hci_vmm_drives(c1, sizeof(c1), out, sizeof(out));
	is_str(out, "/img/a.raw,/img/b.qcow2", "-drive and -blockdev file= values");
	hci_vmm_drives(c2, sizeof(c2), out, sizeof(out));
	is_str(out, "/img/c.raw", "file= after other options");
	hci_vmm_drives(c3, sizeof(c3), out, sizeof(out));
	is_str(out, "/no", "a dotted file= key (snapshot.file) is still a file");

	ok(hci_is_vmm_comm("qemu-system-x86"), "qemu-system-* is a VMM");
	ok(hci_is_vmm_comm("firecracker"), "firecracker is a VMM");
	ok(hci_is_vmm_comm("cloud-hyperviso"), "cloud-hypervisor (comm is cut at 15) is a VMM");
	ok(hci_is_vmm_comm("crosvm"), "crosvm is a VMM");
	ok(!hci_is_vmm_comm("qemu-img"), "qemu-img is not");
	ok(!hci_is_vmm_comm("fio"), "fio is not");

	fd = mkstemp(path);
	ok(fd >= 0 && write(fd, buf, sizeof(buf)) == sizeof(buf) && !fsync(fd), "an open image");
	ok(vi && hci_vmm_inspect(getpid(), vi) == 0, "inspect a live process");
	for (int i = 0; vi && i < vi->nimages; i++) {
		if (!strcmp(vi->images[i].path, path)) {
			found = 1;
			is_int(vi->images[i].fd, fd, "its fd");
			is_int(vi->images[i].size, sizeof(buf), "its size");
			ok(vi->images[i].extents >= 1 || vi->images[i].extents == -1,
			   "extents from FIEMAP (or unknown where the fs has none)");
			if (vi->images[i].extents >= 1) {
				__u64 sec;

				ok(vi->images[i].nmap >= 1, "the extent map is kept (%d)",
				   vi->images[i].nmap);
				ok(!hci_image_sector(&vi->images[i], 0, &sec), "offset 0 maps to a sector");
			}
		}
	}
	ok(found, "the open file is listed as an image");
	ok(vi && vi->name[0], "a process without -name is named by its pid (%s)", vi ? vi->name : "");
	ok(hci_vmm_inspect(0x7ffffff0, vi) != 0, "a vanished process is an error");

	{
		struct hci_image *im = calloc(1, sizeof(*im));
		__u64 sec = 0;

		im->map[0] = (struct hci_extent){ 0, 1 << 20, 64 << 10 };	   /* 64K at 1M */
		im->map[1] = (struct hci_extent){ 128 << 10, 8 << 20, 4 << 10 }; /* 4K at 8M */
		im->nmap = 2;
		ok(!hci_image_sector(im, 4096, &sec) && sec == ((1 << 20) + 4096) / 512,
		   "offset in the first extent -> its sector");
		ok(!hci_image_sector(im, (128 << 10) + 512, &sec) && sec == ((8 << 20) + 512) / 512,
		   "offset in a later extent");
		ok(hci_image_sector(im, 64 << 10, &sec) != 0, "a hole is not mapped");
		ok(hci_image_sector(im, 1 << 30, &sec) != 0, "beyond the extents is not mapped");
		im->blockdev = true;
		ok(!hci_image_sector(im, 1 << 20, &sec) && sec == 2048, "a block device maps 1:1");
		ok(hci_vmm_image(vi, 1, 2) == NULL, "an unknown (disk, inode) has no image");
		free(im);
	}
	close(fd);
	unlink(path);
	free(vi);
	return done_testing();
}
