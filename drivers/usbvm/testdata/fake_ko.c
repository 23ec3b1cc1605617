/* Source of fake.ko: an ELF object with a .modinfo section like a kernel module's.
   Regenerate with: go test -run TestReadModInfo -update */
__attribute__((section(".modinfo"), used, aligned(1))) static const char modinfo[] =
	"license=GPL\0"
	"depends=usbcore,usb-common\0"
	"alias=usb:v*p*d*dc*dsc*dp*ic07isc01ip01in*\0"
	"alias=usb:v*p*d*dc*dsc*dp*ic07isc01ip02in*\0"
	"name=usblp\0"
	"vermagic=6.1.0-56-amd64 SMP preempt mod_unload modversions \0";
int fake_ko_marker;
