// Package codes tells what a scanned code means, before anyone looks it up.
//
// A scanner hands over whatever the label holds: a retail EAN-13 or UPC-A, an
// EAN-8, a GTIN-14 case code, or a GS1 element string (GS1-128, GS1 DataMatrix,
// GS1 QR, GS1 DataBar) that packs a GTIN with a batch, an expiry date and a
// serial number. Many scanners also prefix an AIM symbology identifier such as
// "]C1" or "]E0". This package strips those prefixes, checks check digits,
// normalises every GTIN to 14 digits (so a UPC-A, its EAN-13 form with a leading
// 0, and the GTIN-14 with two leading zeros all match), and splits GS1 element
// strings into their application identifiers (AIs).
//
// It does not decide whether a code is a waybill number or an item: that is a
// lookup, and the scan engine does it. Errors are worded for a person at a
// packing bench and never panic on any input.
package codes
