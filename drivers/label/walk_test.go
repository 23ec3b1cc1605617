package label

import (
	"bytes"
	"strings"
	"testing"

	"github.com/dockhand/dockhand/drivers/printer"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// checkPrintable walks printer output and checks that every piece of text
// sent to the built-in font decodes as GB18030 into characters the font
// can print: unprintable text must have become a bitmap, never garbage.
func checkPrintable(t *testing.T, lang Language, out []byte) {
	t.Helper()
	var texts [][]byte
	var err string
	if lang == TSPL {
		texts, err = tsplTexts(out)
	} else {
		texts, err = escposTexts(out)
	}
	if err != "" {
		t.Fatalf("%s output does not parse: %s", lang, err)
	}
	if len(texts) == 0 {
		t.Fatalf("%s output has no text", lang)
	}
	for _, b := range texts {
		s, derr := simplifiedchinese.GB18030.NewDecoder().Bytes(b)
		if derr != nil {
			t.Fatalf("text % X does not decode: %v", b, derr)
		}
		for _, r := range string(s) {
			if !printer.Printable(r, printer.GBK) {
				t.Errorf("text %q sends %q (U+%04X) to the built-in font", s, r, r)
			}
		}
	}
}

func tsplTexts(out []byte) ([][]byte, string) {
	var texts [][]byte
	for len(out) > 0 {
		if bytes.HasPrefix(out, []byte("BITMAP ")) {
			// BITMAP x,y,width-bytes,height,mode,<width-bytes×height bytes>CR LF
			parts := bytes.SplitN(out[len("BITMAP "):], []byte(","), 6)
			if len(parts) < 6 {
				return nil, "short BITMAP"
			}
			var nums [5]int
			for k, p := range parts[:5] {
				if len(p) == 0 || len(p) > 6 {
					return nil, "bad BITMAP number"
				}
				for _, c := range p {
					if c < '0' || c > '9' {
						return nil, "bad BITMAP number"
					}
					nums[k] = nums[k]*10 + int(c-'0')
				}
			}
			end := len(out) - len(parts[5]) + nums[2]*nums[3]
			if end+2 > len(out) || string(out[end:end+2]) != "\r\n" {
				return nil, "BITMAP data length"
			}
			out = out[end+2:]
			continue
		}
		i := bytes.Index(out, []byte("\r\n"))
		if i < 0 {
			return nil, "line without CR LF"
		}
		line := out[:i]
		if bytes.HasPrefix(line, []byte("TEXT ")) {
			j := bytes.LastIndex(line[:len(line)-1], []byte(`,"`))
			if j < 0 || line[len(line)-1] != '"' {
				return nil, "bad TEXT " + string(line)
			}
			texts = append(texts, bytes.ReplaceAll(line[j+2:len(line)-1], []byte(`\["]`), []byte(`"`)))
		}
		out = out[i+2:]
	}
	return texts, ""
}

func escposTexts(out []byte) ([][]byte, string) {
	var texts [][]byte
	var cur []byte
	flush := func() {
		if len(cur) > 0 {
			texts = append(texts, cur)
			cur = nil
		}
	}
	need := func(n int) bool { return len(out) >= n }
	for len(out) > 0 {
		c := out[0]
		switch {
		case c == 0x0A:
			flush()
			out = out[1:]
		case c == 0x1B || c == 0x1C || c == 0x1D:
			flush()
			if !need(2) {
				return nil, "truncated command"
			}
			cmd := string(out[:2])
			n := 0
			switch cmd {
			case "\x1b@", "\x1c&", "\x1c.", "\x1b2", "\x1d\x0c":
				n = 2
			case "\x1bJ", "\x1dB", "\x1b!", "\x1d!", "\x1ba", "\x1bE", "\x1b3", "\x1bd", "\x1dh", "\x1dw", "\x1dH", "\x1da":
				n = 3
			case "\x1dP", "\x1b$":
				n = 4
			case "\x1dV":
				if need(3) && (out[2] == 65 || out[2] == 66) {
					n = 4
				} else {
					n = 3
				}
			case "\x1dk":
				if !need(4) || out[2] != 73 {
					return nil, "bad GS k"
				}
				n = 4 + int(out[3])
			case "\x1d(":
				if !need(5) {
					return nil, "bad GS ("
				}
				n = 5 + int(out[3]) + int(out[4])<<8
			case "\x1dv":
				if !need(8) || out[2] != '0' {
					return nil, "bad GS v 0"
				}
				n = 8 + (int(out[4])+int(out[5])<<8)*(int(out[6])+int(out[7])<<8)
			default:
				return nil, "unknown command " + strings.TrimSpace(string(out[:2]))
			}
			if !need(n) {
				return nil, "truncated " + cmd
			}
			out = out[n:]
		default:
			cur = append(cur, c)
			out = out[1:]
		}
	}
	flush()
	return texts, ""
}
