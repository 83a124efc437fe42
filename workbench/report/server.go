package report

import (
	"encoding/json"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// NewServer returns the handler behind `glomers serve`: at / an index of
// every test under root (root/<test-name>/<start-time>/), newest first,
// coloured by the :valid? of its results.json (blue true, orange
// unknown, pink false, grey when it has no results yet), and under
// /files/ the store's files themselves, browsable by directory.
//
// Paths with ".." are refused, and files are opened through an os.Root,
// so neither a crafted URL nor a symlink can reach outside root. The
// store is read afresh on every request.
func NewServer(root string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		serveIndex(w, root)
	})
	mux.HandleFunc("GET /files/", func(w http.ResponseWriter, r *http.Request) {
		serveFile(w, r, root)
	})
	return mux
}

// storedTest is one row of the index.
type storedTest struct {
	Name, Stamp string
	Start       time.Time
	Valid       string // "true", "false", "unknown", or "" without results
	Colour      string
	Dir         string // URL of its directory
	Files       []storedFile
}

type storedFile struct{ Name, URL string }

// indexFiles are linked from the index when a test has them.
var indexFiles = []string{"results.edn", "jepsen.log", "messages.svg", "timeline.html", "latency-raw.png", "rate.png"}

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
			tests = append(tests, describeTest(root, n.Name(), run))
		}
	}
	slices.SortStableFunc(tests, func(a, b storedTest) int { return b.Start.Compare(a.Start) })
	return tests, nil
}

func describeTest(root, name string, run fs.DirEntry) storedTest {
	dir := filepath.Join(root, name, run.Name())
	t := storedTest{Name: name, Stamp: run.Name()}
	if start, err := time.Parse(TimeLayout, run.Name()); err == nil {
		t.Start = start
	} else if info, err := run.Info(); err == nil {
		t.Start = info.ModTime()
	}
	t.Valid = readValidity(filepath.Join(dir, "results.json"))
	t.Colour = map[string]string{"true": colourOK, "false": colourFail, "unknown": colourInfo}[t.Valid]
	if t.Colour == "" {
		t.Colour = colourPending
	}
	base := "/files/" + url.PathEscape(name) + "/" + url.PathEscape(run.Name()) + "/"
	t.Dir = base
	for _, f := range indexFiles {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Files = append(t.Files, storedFile{f, base + f})
		}
	}
	return t
}

// readValidity returns the :valid? of a results.json as "true", "false"
// or "unknown"; "" when the file is missing or unreadable.
func readValidity(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	var results struct {
		Valid json.RawMessage `json:"valid?"`
	}
	if err := json.Unmarshal(b, &results); err != nil {
		return ""
	}
	switch string(results.Valid) {
	case "true":
		return "true"
	case "false":
		return "false"
	}
	return "unknown"
}

var indexTemplate = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>glomers store</title>
<style>
body { font-family: Helvetica, Arial, sans-serif; margin: 2em; }
table { border-collapse: collapse; }
td, th { padding: 4px 10px; text-align: left; }
td a { margin-right: 8px; }
</style>
</head>
<body>
<h1>Tests</h1>
{{if .}}<table>
<tr><th>Test</th><th>Started</th><th>Valid?</th><th>Files</th></tr>
{{range .}}<tr style="background: {{.Colour}}">
<td><a href="{{.Dir}}">{{.Name}}</a></td>
<td><a href="{{.Dir}}">{{.Stamp}}</a></td>
<td>{{if .Valid}}{{.Valid}}{{else}}no results{{end}}</td>
<td>{{range .Files}}<a href="{{.URL}}">{{.Name}}</a>{{end}}</td>
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
