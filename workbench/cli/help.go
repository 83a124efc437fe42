package cli

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/glomers/glomers/workbench/internal/suggest"
)

// Every subcommand (test, challenge, serve) declares its options in a
// pflag.FlagSet, which parses them; this file gives all three the same
// help layout, the same value names and the same usage errors.

// argAnnotation is the pflag annotation that names an option's value in
// help ("--host HOST"), so help never shows a Go type ("--seed uint").
const argAnnotation = "glomers-arg"

// helpWidth is the column at which help text wraps.
const helpWidth = 80

// nameColumn is the width of the options' names column; a longer name
// puts its help on the next line.
const nameColumn = 30

// setArg names the value of the option long in help. Every option that
// takes a value gets one (see TestHelpShowsNoGoTypes).
func setArg(fs *pflag.FlagSet, long, arg string) {
	if err := fs.SetAnnotation(long, argAnnotation, []string{arg}); err != nil {
		// Only a misspelt name gets here: a programming error.
		panic(err)
	}
}

// argOf is the name of f's value in help, "" for a switch.
func argOf(f *pflag.Flag) string {
	if a := f.Annotations[argAnnotation]; len(a) > 0 {
		return a[0]
	}
	if f.NoOptDefVal != "" {
		return ""
	}
	name, _ := pflag.UnquoteUsage(f)
	return strings.ToUpper(name)
}

// defaultOf is f's default as help shows it: "" when it has none worth
// showing (an empty value, a switch that is off, or help text that
// explains the default itself), quoted unless it is a number.
func defaultOf(f *pflag.Flag) string {
	d := f.DefValue
	if d == "" || d == "false" || strings.Contains(f.Usage, "(default") {
		return ""
	}
	if _, err := strconv.ParseFloat(d, 64); err == nil {
		return d
	}
	return strconv.Quote(d)
}

// writeOptions writes the options of fs, in the order they were
// declared, as a two-column list: names and value, then the help text
// wrapped at helpWidth with the default at its end.
func writeOptions(w io.Writer, fs *pflag.FlagSet) {
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		names := "--" + f.Name
		if f.Shorthand != "" {
			names = "-" + f.Shorthand + ", " + names
		}
		if arg := argOf(f); arg != "" {
			names += " " + arg
		}
		_, text := pflag.UnquoteUsage(f)
		words := strings.Fields(text)
		if d := defaultOf(f); d != "" {
			words = append(words, "(default\u00a0"+d+")")
		}
		lines := wrap(words, helpWidth-nameColumn-3)
		for i := range lines {
			lines[i] = strings.ReplaceAll(lines[i], "\u00a0", " ")
		}
		if len(names) > nameColumn {
			fmt.Fprintf(w, "  %s\n", names)
		} else {
			fmt.Fprintf(w, "  %-*s %s\n", nameColumn, names, lines[0])
			lines = lines[1:]
		}
		for _, l := range lines {
			fmt.Fprintf(w, "  %-*s %s\n", nameColumn, "", l)
		}
	})
}

// wrap breaks words into lines of at most width columns (a longer word
// gets a line of its own). A short list ("partition, pause, kill") stays
// on one line, so it reads, and searches, as one.
func wrap(words []string, width int) []string {
	var lines []string
	line := ""
	for _, unit := range units(words, width) {
		switch {
		case line == "":
			line = unit
		case len([]rune(line))+1+len([]rune(unit)) <= width:
			line += " " + unit
		default:
			lines = append(lines, line)
			line = unit
		}
	}
	return append(lines, line)
}

// units joins the words of each comma-separated list of three or more
// ("a, b, c") into one unit when it fits in width; the words of a longer
// list, and of prose ("ones, e.g."), stay apart.
func units(words []string, width int) []string {
	var out []string
	for i := 0; i < len(words); {
		j := i + 1
		for j < len(words) && strings.HasSuffix(words[j-1], ",") {
			j++
		}
		if run := strings.Join(words[i:j], " "); j-i >= 3 && len([]rune(run)) <= width {
			out = append(out, run)
		} else {
			out = append(out, words[i:j]...)
		}
		i = j
	}
	return out
}

// flagError turns one of pflag's parse errors into the message glomers
// prints: the option as the user typed it, what is wrong, and for an
// unknown option the nearest known one ("unknown flag --node-cont; did
// you mean --node-count?").
func flagError(fs *pflag.FlagSet, err error) error {
	var unknown *pflag.NotExistError
	var invalid *pflag.InvalidValueError
	var missing *pflag.ValueRequiredError
	switch {
	case errors.As(err, &unknown):
		name := unknown.GetSpecifiedName()
		switch group := unknown.GetSpecifiedShortnames(); {
		case group == name:
			return fmt.Errorf("unknown flag -%s", name)
		case group != "":
			return fmt.Errorf("unknown flag -%s in -%s", name, group)
		}
		var longs []string
		fs.VisitAll(func(f *pflag.Flag) { longs = append(longs, f.Name) })
		if s, ok := suggest.Closest(name, longs); ok {
			return fmt.Errorf("unknown flag --%s; did you mean --%s?", name, s)
		}
		return fmt.Errorf("unknown flag --%s", name)
	case errors.As(err, &invalid):
		f := invalid.GetFlag()
		if _, ours := f.Value.(*specValue); ours {
			// A test option's own error already names the option.
			return invalid.Unwrap()
		}
		return fmt.Errorf("--%s must be %s, got %q", f.Name, valueKind(f), invalid.GetValue())
	case errors.As(err, &missing):
		name := "--" + missing.GetSpecifiedName()
		if missing.GetSpecifiedShortnames() != "" {
			name = "-" + missing.GetSpecifiedName()
		}
		if f := missing.GetFlag(); f != nil {
			return fmt.Errorf("%s needs a value (%s)", name, argOf(f))
		}
		return fmt.Errorf("%s needs a value", name)
	}
	return err
}

// valueKind says in words what kind of value f takes.
func valueKind(f *pflag.Flag) string {
	switch f.Value.Type() {
	case "int", "int64":
		return "an integer"
	case "uint", "uint64":
		return "a non-negative integer"
	case "float64":
		return "a number"
	case "bool":
		return "true or false"
	}
	return "a " + strings.ToLower(argOf(f))
}

// usageError prints a usage error of glomers cmd as one line that ends by
// pointing at the command's help, and returns ExitUsage.
func usageError(w io.Writer, cmd string, err error) int {
	fmt.Fprintf(w, "glomers %s: %s (see glomers %s --help)\n", cmd, oneLine(err), cmd)
	return ExitUsage
}
