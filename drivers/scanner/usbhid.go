package scanner

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"github.com/karalabe/usb"
)

// usagePagePOS is the HID usage page of barcode scanners (HID POS).
const usagePagePOS = 0x8C

// USBHIDSupported reports whether this build can talk to USB HID devices
// through hidapi/libusb (it needs cgo).
func USBHIDSupported() bool { return usb.Supported() }

// noUSBHint explains an empty result on a Linux machine without a USB bus.
func noUSBHint() string {
	if runtime.GOOS == "linux" {
		if _, err := os.Stat("/sys/bus/usb"); errors.Is(err, os.ErrNotExist) {
			return " (this machine has no USB bus)"
		}
	}
	return ""
}

// ListUSBHID lists USB HID interfaces through hidapi. It returns
// ErrNoUSBHID when the build has no USB HID support, and an empty list when
// the machine has no USB at all.
func ListUSBHID() ([]DeviceInfo, error) {
	if !usb.Supported() {
		return nil, ErrNoUSBHID
	}
	infos, err := usb.EnumerateHid(0, 0)
	if err != nil {
		return nil, fmt.Errorf("list USB HID devices: %w", err)
	}
	out := make([]DeviceInfo, 0, len(infos))
	for _, i := range infos {
		out = append(out, fromUSB(i))
	}
	return out, nil
}

func fromUSB(i usb.DeviceInfo) DeviceInfo {
	return DeviceInfo{Kind: "usb-hid", Path: i.Path, VID: i.VendorID, PID: i.ProductID, Serial: i.Serial,
		Manufacturer: i.Manufacturer, Product: i.Product, UsagePage: i.UsagePage, Interface: i.Interface}
}

// OpenUSBHID opens the HID interface matching m through hidapi. When a
// scanner has several HID interfaces, the one on the barcode scanner usage
// page (0x8C) is preferred where the platform reports usage pages (Windows,
// macOS). Each Read of the returned device gives one input report. Read has
// no timeout: close the device to stop a reader.
func OpenUSBHID(m Match) (usb.Device, DeviceInfo, error) {
	if !usb.Supported() {
		return nil, DeviceInfo{}, ErrNoUSBHID
	}
	infos, err := usb.EnumerateHid(m.VID, m.PID)
	if err != nil {
		return nil, DeviceInfo{}, fmt.Errorf("open USB HID %s: %w", m, err)
	}
	var pick *usb.DeviceInfo
	for i := range infos {
		if m.Serial != "" && infos[i].Serial != m.Serial {
			continue
		}
		if pick == nil || infos[i].UsagePage == usagePagePOS && pick.UsagePage != usagePagePOS {
			pick = &infos[i]
		}
	}
	if pick == nil {
		return nil, DeviceInfo{}, fmt.Errorf("open USB HID %s%s: %w", m, noUSBHint(), ErrNotFound)
	}
	dev, err := pick.Open()
	if err != nil {
		return nil, DeviceInfo{}, fmt.Errorf("open USB HID %s at %s (permissions? see the udev notes): %w", m, pick.Path, err)
	}
	return dev, fromUSB(*pick), nil
}
