package report

import (
	"bytes"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// NewServer returns the handler behind `glomers serve`: at / an index of
// every test under root (root/<test-name>/<start-time>/), newest first,
// coloured by its verdict (from its summary.json, or the :valid? of its
// results.json for a run stored before summary.json; blue true, orange
// unknown, pink false, grey when it has no results yet) with its key
// figures, a link to each of its plots and a link to every file it
// holds; under /files/ the store's
// files themselves, browsable by directory, where a test's directory
// shows its index.html (see WriteRunPage) when it has one, and where
// each window of a test's Lamport diagram but the first,
// messages-NNN.svg, is drawn from its journal when asked for (see
// WriteMessagesFromJournal).
//
// Everything it reads, the index's summary.json, results.json and
// test.json included,
// is read through one os.Root, so neither a crafted URL nor a symlink
// can reach outside root; only regular files and directories are
// opened, so a FIFO or a device in the store is refused (403) rather
// than hanging or exhausting a request, and the JSON files the pages
// read are read only up to a bound. Every answer carries
// X-Content-Type-Options: nosniff and a Content-Security-Policy that
// allows the pages' own styles and the diagram's script and nothing
// else. The store is read afresh on every request.
func NewServer(root string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		serveIndex(w, root)
	})
	mux.HandleFunc("GET /files/{$}", func(w http.ResponseWriter, r *http.Request) {
		// The store's own directory: the index says more.
		http.Redirect(w, r, "/", http.StatusFound)
	})
	mux.HandleFunc("GET /files/", func(w http.ResponseWriter, r *http.Request) {
		serveFile(w, r, root)
	})
	return withSecurityHeaders(mux)
}

// ContentSecurityPolicy is the policy every answer of NewServer carries:
// nothing may load from elsewhere, the pages keep their inline styles,
// and the only script allowed is the diagram's, by its hash (the
// current one and the one of diagrams stored by earlier versions).
var ContentSecurityPolicy = "default-src 'none'; img-src 'self'; style-src 'self' 'unsafe-inline'; script-src " +
	DiagramScriptHash + " " + legacyDiagramScriptHash +
	"; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"

// legacyDiagramScriptHash is the hash of the script diagrams carried
// before it became diagramScript.
const legacyDiagramScriptHash = "'sha256-xuSakBrdjpyKEpiYfXMvhmoGrJSEkdjCg0pw679/6dw='"

func withSecurityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Content-Security-Policy", ContentSecurityPolicy)
		hd.Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}

// storedTest is one row of the index.
type storedTest struct {
	runSummary
	When    string // the start, readable
	Verdict string
	Colour  string
	Dir     string // URL of its directory
	Links   []storedFile
	Plots   []storedFile // its plots, named without .png
	Figures map[string]string
}

type storedFile struct{ Name, URL string }

// listTests returns the tests stored in root, newest first. Symlinks
// (latest, current) and anything that is not a directory are skipped.
func listTests(root rootFS) ([]storedTest, error) {
	names, err := fs.ReadDir(root, ".")
	if err != nil {
		return nil, err
	}
	var tests []storedTest
	for _, n := range names {
		if !n.IsDir() || strings.HasPrefix(n.Name(), ".") {
			continue
		}
		runs, err := fs.ReadDir(root, n.Name())
		if err != nil {
			return nil, err
		}
		for _, run := range runs {
			if !run.IsDir() || strings.HasPrefix(run.Name(), ".") {
				continue
			}
			dir, err := root.Sub(n.Name() + "/" + run.Name())
			if err != nil {
				continue
			}
			tests = append(tests, describeTest(dir, n.Name(), run.Name()))
		}
	}
	slices.SortStableFunc(tests, func(a, b storedTest) int { return b.Start.Compare(a.Start) })
	return tests, nil
}

func describeTest(dir fs.FS, name, stamp string) storedTest {
	t := storedTest{runSummary: summarise(dir, name, stamp)}
	t.When = readableTime(t.Start)
	t.Verdict = map[string]string{"true": "valid", "false": "invalid", "unknown": "unknown"}[t.Valid]
	if t.Verdict == "" {
		t.Verdict = "no results"
	}
	_, t.Colour = verdictText(t.Valid)
	base := "/files/" + url.PathEscape(name) + "/" + url.PathEscape(stamp) + "/"
	t.Dir = base
	for _, f := range t.Files {
		t.Links = append(t.Links, storedFile{f, base + escapePath(f)})
	}
	for _, f := range plotsOf(t.Files) {
		t.Plots = append(t.Plots, storedFile{strings.TrimSuffix(f, ".png"), base + escapePath(f)})
	}
	t.Figures = map[string]string{}
	for _, f := range t.runSummary.Figures {
		key := f.Name
		if strings.HasSuffix(key, "-latencies") {
			key = "latency"
			if _, dup := t.Figures[key]; dup {
				continue
			}
			t.Figures["latency-name"] = f.Name
		}
		t.Figures[key] = f.Value
	}
	return t
}

// escapePath escapes each element of a slash-separated relative path.
func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

var indexTemplate = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>glomers store</title>
<style>
body { font-family: Helvetica, Arial, sans-serif; margin: 2em; }
table { border-collapse: collapse; }
td, th { padding: 4px 10px; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
details.files a { margin-right: 8px; }
summary { cursor: pointer; }
</style>
</head>
<body>
<h1>Tests</h1>
{{if .}}<table id="tests">
<tr><th>Workload</th><th>Started</th><th>Verdict</th><th>Why</th><th title="messages among servers per client operation">msgs-per-op</th><th title="fraction of operations that succeeded">ok-fraction</th><th>Latency</th><th>Plots</th><th>Files</th></tr>
{{range .}}<tr class="test" style="background: {{.Colour}}">
<td><a href="{{.Dir}}">{{.Name}}</a></td>
<td><a href="{{.Dir}}" title="{{.Stamp}}">{{.When}}</a></td>
<td class="verdict">{{.Verdict}}</td>
<td class="why">{{range $i, $r := .Reasons}}{{if $i}}; {{end}}{{$r}}{{end}}</td>
<td class="num">{{index .Figures "msgs-per-op"}}</td>
<td class="num">{{index .Figures "ok-fraction"}}</td>
<td title="{{index .Figures "latency-name"}}">{{index .Figures "latency"}}</td>
<td class="plots">{{range .Plots}}<a href="{{.URL}}">{{.Name}}</a><br>{{end}}</td>
<td><details class="files"><summary>{{len .Links}} files</summary>{{range .Links}}<a href="{{.URL}}">{{.Name}}</a> {{end}}</details></td>
</tr>
{{end}}</table>
{{else}}<p>No tests stored yet.</p>
{{end}}</body>
</html>
`))

func serveIndex(w http.ResponseWriter, root string) {
	var tests []storedTest
	fsRoot, err := openRoot(root)
	if err == nil {
		tests, err = listTests(fsRoot)
		fsRoot.Close()
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		http.Error(w, "cannot list the store: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := indexTemplate.Execute(w, tests); err != nil {
		// Headers are gone; all we can do is stop writing.
		return
	}
}

// windowName matches the diagram windows serve draws on request.
var windowName = regexp.MustCompile(`^messages-([0-9]{3,9})\.svg$`)

// textTypes are the store's text files whose type the file server would
// otherwise guess from their content: a node's log that begins with
// "<html>" must not be served as a page.
var textTypes = map[string]string{
	".log": "text/plain; charset=utf-8", ".edn": "text/plain; charset=utf-8",
	".txt": "text/plain; charset=utf-8", ".jsonl": "text/plain; charset=utf-8",
}

func serveFile(w http.ResponseWriter, r *http.Request, root string) {
	rest := strings.TrimPrefix(r.URL.Path, "/files")
	if slices.Contains(strings.Split(rest, "/"), "..") || strings.Contains(rest, "\\") {
		http.Error(w, "invalid path", http.StatusBadRequest)
		return
	}
	fsRoot, err := openRoot(root)
	if err != nil {
		http.Error(w, "store not found", http.StatusNotFound)
		return
	}
	defer fsRoot.Close()
	name := strings.Trim(rest, "/")
	if m := windowName.FindStringSubmatch(path.Base(name)); m != nil && fs.ValidPath(name) {
		if _, err := fs.Stat(fsRoot, name); errors.Is(err, fs.ErrNotExist) {
			i, _ := strconv.Atoi(m[1])
			serveWindow(w, fsRoot, path.Dir(name), i)
			return
		}
	}
	if t, ok := textTypes[path.Ext(name)]; ok {
		w.Header().Set("Content-Type", t)
	}
	if linearizabilityPage.MatchString(path.Base(name)) && fs.ValidPath(name) {
		if csp, ok := linearizabilityPolicy(fsRoot, name); ok {
			w.Header().Set("Content-Security-Policy", csp)
		}
	}
	http.StripPrefix("/files", http.FileServerFS(confinedFS{fsRoot})).ServeHTTP(w, r)
}

// serveWindow draws window i of the diagram of the test in dir.
func serveWindow(w http.ResponseWriter, root rootFS, dir string, i int) {
	sub, err := root.Sub(dir)
	if err != nil {
		http.Error(w, "invalid path", http.StatusBadRequest)
		return
	}
	var buf bytes.Buffer
	if err := WriteMessagesFromJournal(&buf, sub, i); err != nil {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			http.Error(w, "no such diagram window", http.StatusNotFound)
		case errors.Is(err, errNotRegular), errors.Is(err, fs.ErrPermission):
			http.Error(w, "forbidden", http.StatusForbidden)
		default:
			http.Error(w, "cannot draw the diagram: "+err.Error(), http.StatusInternalServerError)
		}
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Write(buf.Bytes())
}

// confinedFS reports every failure to open other than a missing file as
// a permission error, so a symlink leading out of the store (which
// os.Root refuses to follow), a FIFO or a device is answered 403
// Forbidden, not 500.
type confinedFS struct{ fsys fs.FS }

func (c confinedFS) Open(name string) (fs.File, error) {
	f, err := c.fsys.Open(name)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return f, err
}
