package report

import (
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// NewServer returns the handler behind `glomers serve`: at / an index of
// every test under root (root/<test-name>/<start-time>/), newest first,
// coloured by the :valid? of its results.json (blue true, orange
// unknown, pink false, grey when it has no results yet) with its key
// figures, a link to each of its plots and a link to every file it
// holds; under /files/ the store's
// files themselves, browsable by directory, where a test's directory
// shows its index.html (see WriteRunPage) when it has one.
//
// Paths with ".." are refused, and files are opened through an os.Root,
// so neither a crafted URL nor a symlink can reach outside root. The
// store is read afresh on every request.
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
	return mux
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

// indexFigures are the columns of key figures on the index, by the
// names keyFigures gives them; latencies fill one more column.
var indexFigures = []string{"msgs-per-op", "ok-fraction"}

// listTests returns the tests stored under root, newest first. Symlinks
// (latest, current) and anything that is not a directory are skipped.
func listTests(root string) ([]storedTest, error) {
	names, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var tests []storedTest
	for _, n := range names {
		if !n.IsDir() || strings.HasPrefix(n.Name(), ".") {
			continue
		}
		runs, err := os.ReadDir(filepath.Join(root, n.Name()))
		if err != nil {
			return nil, err
		}
		for _, run := range runs {
			if !run.IsDir() || strings.HasPrefix(run.Name(), ".") {
				continue
			}
			tests = append(tests, describeTest(root, n.Name(), run.Name()))
		}
	}
	slices.SortStableFunc(tests, func(a, b storedTest) int { return b.Start.Compare(a.Start) })
	return tests, nil
}

func describeTest(root, name, stamp string) storedTest {
	t := storedTest{runSummary: summarise(filepath.Join(root, name, stamp), name, stamp)}
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
<tr><th>Workload</th><th>Started</th><th>Verdict</th><th title="messages among servers per client operation">msgs-per-op</th><th title="fraction of operations that succeeded">ok-fraction</th><th>Latency</th><th>Plots</th><th>Files</th></tr>
{{range .}}<tr class="test" style="background: {{.Colour}}">
<td><a href="{{.Dir}}">{{.Name}}</a></td>
<td><a href="{{.Dir}}" title="{{.Stamp}}">{{.When}}</a></td>
<td class="verdict">{{.Verdict}}</td>
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
	tests, err := listTests(root)
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

func serveFile(w http.ResponseWriter, r *http.Request, root string) {
	rest := strings.TrimPrefix(r.URL.Path, "/files")
	if slices.Contains(strings.Split(rest, "/"), "..") || strings.Contains(rest, "\\") {
		http.Error(w, "invalid path", http.StatusBadRequest)
		return
	}
	fsRoot, err := os.OpenRoot(root)
	if err != nil {
		http.Error(w, "store not found", http.StatusNotFound)
		return
	}
	defer fsRoot.Close()
	http.StripPrefix("/files", http.FileServerFS(confinedFS{fsRoot.FS()})).ServeHTTP(w, r)
}

// confinedFS reports every failure to open other than a missing file as
// a permission error, so a symlink leading out of the store (which
// os.Root refuses to follow) is answered 403 Forbidden, not 500.
type confinedFS struct{ fsys fs.FS }

func (c confinedFS) Open(name string) (fs.File, error) {
	f, err := c.fsys.Open(name)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return f, err
}
