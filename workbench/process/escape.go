package process

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Printable returns s with everything a terminal could take for a command
// made visible: C0 control characters (except tab and newline), DEL and
// the C1 controls U+0080–U+009F become \xHH or \u00HH, and bytes that are
// not UTF-8 become \xHH. A node's text passes through it before it reaches
// the user's terminal, so that a node printing ESC ] 0 ; … BEL cannot
// retitle the window or worse. Newlines are kept: the bench splits a
// node's output into lines before it prints them, so a newline here is the
// bench's own.
func Printable(s string) string {
	i := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if needsEscape(rune(c)) {
				break
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || isC1(r) {
			break
		}
		i += size
	}
	if i == len(s) {
		return s // the common case: nothing to escape, nothing allocated
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if needsEscape(rune(c)) {
				fmt.Fprintf(&b, `\x%02x`, c)
			} else {
				b.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, c)
		case isC1(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func needsEscape(c rune) bool {
	return (c < 0x20 && c != '\t' && c != '\n') || c == 0x7f
}

func isC1(r rune) bool { return r >= 0x80 && r <= 0x9f }
