package report

import (
	"fmt"
	"html/template"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/glomers/glomers/workbench/results"
)

// resultSection is one top-level entry of results.edn, folded on the
// run page.
type resultSection struct {
	Key   string // without the colon
	Valid string // the section's own :valid?, "" when it has none
	Text  string // the entry as results.edn prints it
	Open  bool
}

// ednSections splits a results.edn printed by edn.MarshalIndent (and
// by Maelstrom's pretty-printer, which lays maps out the same way) into
// its top-level entries: the first begins after the opening brace, each
// other at a line whose second character is the colon of a keyword.
// Strings in EDN escape their newlines, so no line inside a string can
// look like that. Text that does not have this shape comes back as one
// section named "results".
func ednSections(text string) []resultSection {
	text = strings.TrimRight(text, "\n")
	if !strings.HasPrefix(text, "{:") || !strings.HasSuffix(text, "}") {
		return []resultSection{{Key: "results", Text: text}}
	}
	lines := strings.Split(text[1:len(text)-1], "\n")
	var out []resultSection
	var cur []string
	flush := func() {
		if len(cur) == 0 {
			return
		}
		body := strings.TrimSuffix(strings.Join(cur, "\n"), ",")
		key, _, _ := strings.Cut(body, " ")
		out = append(out, resultSection{Key: strings.TrimPrefix(key, ":"), Text: body})
		cur = nil
	}
	for i, l := range lines {
		if i > 0 && strings.HasPrefix(l, " :") {
			flush()
		}
		if i > 0 {
			l = strings.TrimPrefix(l, " ") // the map's own indentation
		}
		cur = append(cur, l)
	}
	flush()
	return out
}

// messagePart is one slice of the Lamport diagram, linked from the run
// page.
type messagePart struct {
	File, Label string
}

type runPage struct {
	runSummary
	// Findings and Advisory are the run's explanation (explain.json):
	// what failed it, and what glomers' own checks found that counts
	// only with --strict.
	Findings, Advisory []results.Finding
	When               string
	Verdict            string
	Colour             string
	Sections           []resultSection
	Plots              []string
	Messages           []messagePart
	// MoreWindows names the windows not listed; Served is set when some
	// windows are drawn by glomers serve; JournalNote says what the
	// journal lacks.
	MoreWindows, JournalNote string
	Served                   bool
	Logs                     []string
	Others                   []string
	HasResults               bool
}

// runPageTemplate is index.html; its "finding" template shows one
// finding of the explanation: its short form and sentence, then its
// examples with their stories and pictures.
var runPageTemplate = template.Must(template.New("run").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Name}} {{.When}}: {{.Verdict}}</title>
<style>
body { font-family: Helvetica, Arial, sans-serif; margin: 1.5em 2em; max-width: 1100px; }
.verdict { padding: 0.6em 1em; font-size: 1.3em; border-radius: 4px; }
table.figures td, table.figures th { padding: 3px 12px 3px 0; text-align: left; }
details { margin: 4px 0; border: 1px solid #ddd; border-radius: 3px; padding: 3px 8px; }
summary { cursor: pointer; font-family: monospace; font-size: 1.05em; }
pre { overflow-x: auto; font-size: 12px; }
.valid-true { color: #1a6bbf; } .valid-false { color: #c2185b; font-weight: bold; } .valid-unknown { color: #c77800; }
img.plot { display: block; max-width: 100%; margin: 0.5em 0 1.5em; border: 1px solid #eee; }
ul.files { columns: 3; }
nav a { margin-right: 1em; }
.finding { border-left: 4px solid #c2185b; padding: 2px 12px; margin: 10px 0; }
.finding .short { font-weight: bold; color: #c2185b; }
.finding ol { font-family: monospace; font-size: 12px; margin: 2px 0 6px; }
.finding li.example { margin: 4px 0; }
.hint { color: #666; font-size: 0.9em; }
</style>
</head>
<body>
<nav><a href="../../">all tests</a><a href="../">all {{.Name}} tests</a></nav>
<h1>{{.Name}} <small>{{.When}}</small></h1>
<p class="verdict" id="verdict" style="background: {{.Colour}}">{{.Verdict}}</p>
{{if .Findings}}<section id="explanation"><h2>Why this run is invalid</h2>
{{range .Findings}}{{template "finding" .}}{{end}}
<p class="hint">From <a href="explain.json">explain.json</a>. The results map below is Maelstrom's, unchanged.</p></section>
{{end}}{{if .Advisory}}<section id="advisory"><h2>What glomers' own checks found</h2>
<p class="hint">Maelstrom does not check these; they count toward the verdict only with <code>--strict</code>.</p>
{{range .Advisory}}{{template "finding" .}}{{end}}</section>
{{end}}{{with .Test}}{{if .Nodes}}<p class="params">{{.Nodes}} nodes{{if .Concurrency}}, concurrency {{.Concurrency}}{{end}}{{if .TimeLimit}}, time limit {{.TimeLimit}}{{end}}{{if .Rate}}, rate {{.Rate}}{{end}}{{if .Latency}}, latency {{.Latency}}{{end}}, nemesis {{.Nemesis}}{{if .Seed}}, seed {{.Seed}}{{end}}</p>{{end}}{{end}}
{{if .Figures}}<h2>Key figures</h2>
<table class="figures">
{{range .Figures}}<tr><th title="{{.Help}}">{{.Name}}</th><td>{{.Value}}</td></tr>
{{end}}</table>{{end}}
<h2>Results</h2>
{{if .HasResults}}<p>From <a href="results.edn">results.edn</a> (also <a href="results.json">results.json</a>); sections that are not valid are unfolded.</p>
{{range .Sections}}<details{{if .Open}} open{{end}}><summary>:{{.Key}}{{if .Valid}} <span class="valid-{{.Valid}}">valid? {{.Valid}}</span>{{end}}</summary>
<pre>{{.Text}}</pre></details>
{{end}}{{else}}<p>No results: the test crashed before its analysis, or is still running. <a href="jepsen.log">jepsen.log</a> says why.</p>{{end}}
<h2>Operations</h2>
<p>{{if .HasTimeline}}<a href="timeline.html" id="timeline">Timeline of every operation</a>{{else}}No timeline.{{end}}{{if .Has "history.txt"}} · <a href="history.txt">history.txt</a>{{end}}{{if .Has "history.edn"}} · <a href="history.edn">history.edn</a>{{end}}</p>
{{if .Plots}}<h2>Plots</h2>
{{range .Plots}}<a href="{{.}}"><img class="plot" src="{{.}}" alt="{{.}}"></a>
{{end}}{{end}}
{{if .Messages}}<h2>Messages</h2>
<p>Lamport diagrams of the network journal{{if .Has "net-journal.jsonl.gz"}} (<a href="net-journal.jsonl.gz">net-journal.jsonl.gz</a>){{else if .Has "net-journal.jsonl"}} (<a href="net-journal.jsonl">net-journal.jsonl</a>){{end}}, one window of the run each; hover over an arrow for its message.{{if .Served}} Only messages.svg is a file: <code>glomers serve</code> draws the other windows from the journal when you open them.{{end}}</p>
{{if .JournalNote}}<p class="truncated" id="journal-truncated">{{.JournalNote}}</p>
{{end}}<ul class="messages">
{{range .Messages}}<li><a href="{{.File}}">{{.File}}</a> {{.Label}}</li>
{{end}}</ul>{{with .MoreWindows}}<p>{{.}}</p>{{end}}{{end}}
<h2>Logs</h2>
<ul class="logs">
{{range .Logs}}<li><a href="{{.}}">{{.}}</a></li>
{{end}}</ul>
<h2>All files</h2>
<ul class="files">
{{range .Files}}<li><a href="{{.}}">{{.}}</a></li>
{{end}}</ul>
</body>
</html>
{{define "finding"}}<div class="finding" data-kind="{{.Kind}}"><p><span class="short">{{.Short}}</span> <span class="section">(:{{.Section}})</span>: {{.Summary}}</p>
{{if .Examples}}<ul>{{range .Examples}}<li class="example">{{.Text}}{{with .File}} <a href="{{.}}">picture</a>{{end}}{{if .Lines}}<ol>{{range .Lines}}<li>{{.}}</li>{{end}}</ol>{{end}}</li>
{{end}}</ul>{{end}}</div>
{{end}}`))

// HasTimeline reports whether the run has timeline.html.
func (p runPage) HasTimeline() bool { return p.Has("timeline.html") }

// Has reports whether the run's directory holds the file name.
func (p runPage) Has(name string) bool { return slices.Contains(p.Files, name) }

// plotFiles are the plots every run has, in the order pages show them;
// any other PNG image of the run (a workload's own, such as kafka's
// realtime-lag.png) follows them, by name.
var plotFiles = []string{"latency-raw.png", "latency-quantiles.png", "rate.png"}

// plotsOf picks the plots among a run's top-level files: those of
// plotFiles it has, in that order, then its other .png files.
func plotsOf(files []string) []string {
	var out []string
	for _, f := range plotFiles {
		if slices.Contains(files, f) {
			out = append(out, f)
		}
	}
	for _, f := range files {
		if strings.HasSuffix(f, ".png") && !slices.Contains(plotFiles, f) {
			out = append(out, f)
		}
	}
	return out
}

// verdictText says what a :valid? means to a reader.
func verdictText(valid string) (text, colour string) {
	switch valid {
	case "true":
		return "Valid: everything looks good", colourOK
	case "false":
		return "Invalid: the analysis found errors", colourFail
	case "unknown":
		return "Unknown: errors occurred during analysis, but no anomalies were found", colourInfo
	}
	return "No results", colourPending
}

// maxListedWindows bounds the diagram windows the run page links one
// by one; the rest are named by their pattern.
const maxListedWindows = 500

// maxResultsRead bounds the results.edn a run page shows.
const maxResultsRead = 32 << 20

// WriteRunPage writes index.html into the test directory dir
// (root/<test-name>/<start-time>/): the verdict, the key figures, the
// results folded by section, the plots, the message diagrams (messages
// describes them, as messages.json does; nil lists the messages*.svg
// files found), and links to the logs, the history and the timeline.
// Everything is read from the files in dir, through an os.Root, and the
// links are relative, so the page works served by `glomers serve` and
// opened straight from disk alike (where only messages.svg, the first
// window of the diagram, is a file).
func WriteRunPage(dir string, messages *MessagesIndex) error {
	dir = filepath.Clean(dir)
	root, err := openRoot(dir)
	if err != nil {
		return fmt.Errorf("report: index.html: %w", err)
	}
	defer root.Close()
	p := runPage{runSummary: summarise(root, filepath.Base(filepath.Dir(dir)), filepath.Base(dir))}
	p.When = readableTime(p.Start)
	p.Verdict, p.Colour = verdictText(p.Valid)
	if p.Valid == "false" && len(p.Reasons) > 0 {
		p.Verdict = "Invalid: " + strings.Join(p.Reasons, "; ")
	}
	p.readExplanation(root)
	p.readResults(root)
	p.Plots = plotsOf(p.Files)
	if messages != nil {
		wins := messages.Slices()
		for _, m := range wins[:min(len(wins), maxListedWindows)] {
			p.Messages = append(p.Messages, messagePart{m.File, m.Label()})
		}
		if len(wins) > maxListedWindows {
			p.MoreWindows = fmt.Sprintf("… and %d more windows, up to messages-%03d.svg.", len(wins)-maxListedWindows, len(wins)-1)
		}
		p.Served = len(wins) > 1
		if messages.Truncated != "" {
			p.JournalNote = fmt.Sprintf("The journal was truncated after %d of %d events: %s.", messages.Written, messages.Events, messages.Truncated)
		}
	} else {
		for _, f := range p.Files {
			if strings.HasPrefix(f, "messages") && strings.HasSuffix(f, ".svg") {
				p.Messages = append(p.Messages, messagePart{File: f})
			}
		}
	}
	for _, f := range []string{"jepsen.log", "maelstrom.log"} {
		if slices.Contains(p.Files, f) {
			p.Logs = append(p.Logs, f)
		}
	}
	if nodeLogs, err := fs.ReadDir(root, "node-logs"); err == nil {
		for _, e := range nodeLogs {
			if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
				p.Logs = append(p.Logs, "node-logs/"+e.Name())
			}
		}
		slices.SortStableFunc(p.Logs[min(len(p.Logs), 1):], func(a, b string) int { return compareNatural(a, b) })
	}
	f, err := os.Create(filepath.Join(dir, "index.html"))
	if err != nil {
		return fmt.Errorf("report: index.html: %w", err)
	}
	if err := runPageTemplate.Execute(f, p); err != nil {
		f.Close()
		return fmt.Errorf("report: index.html: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("report: index.html: %w", err)
	}
	return nil
}

// readExplanation reads the run's explain.json, if it has one, into
// the findings that count and those that are advisory.
func (p *runPage) readExplanation(root fs.FS) {
	b, err := readSmallFile(root, results.ExplainFile, maxJSONRead)
	if err != nil {
		return
	}
	x, err := results.ParseExplanation(b)
	if err != nil {
		return
	}
	for _, f := range x.Findings {
		if f.Advisory {
			p.Advisory = append(p.Advisory, f)
		} else {
			p.Findings = append(p.Findings, f)
		}
	}
}

// readResults reads results.edn into sections, each with its own
// :valid? from results.json; those that are not valid are unfolded.
func (p *runPage) readResults(root fs.FS) {
	text, err := readSmallFile(root, "results.edn", maxResultsRead)
	if err != nil {
		return
	}
	p.HasResults = true
	resultsJSON, _ := readJSON(root, "results.json")
	for _, s := range ednSections(string(text)) {
		if s.Key == "valid?" {
			continue // the verdict above says it
		}
		if sec, ok := resultsJSON[s.Key].(map[string]any); ok {
			if _, has := sec["valid?"]; has {
				s.Valid = validityOf(sec)
			}
		}
		s.Open = s.Valid == "false" || s.Valid == "unknown"
		p.Sections = append(p.Sections, s)
	}
}

// compareNatural orders strings with their digit runs compared as
// numbers, so node-logs/n2.log comes before node-logs/n10.log.
func compareNatural(a, b string) int {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				return len(na) - len(nb)
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func digitRun(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}
