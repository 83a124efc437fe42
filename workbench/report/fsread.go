package report

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
)

// errNotRegular refuses a FIFO, a device or a socket found in the
// store: opening a FIFO would wait for a writer forever, and a device
// such as /dev/zero never ends.
var errNotRegular = errors.New("not a regular file or directory")

// rootFS is a test directory or the whole store, read through an
// os.Root so that no path and no symlink leads outside it, where only
// regular files and directories can be opened. Each file is opened
// without blocking (see openFlags) and checked after it is open, so a
// FIFO swapped in between cannot hang a reader either.
type rootFS struct{ root *os.Root }

// openRoot opens dir as a rootFS; close it with Close.
func openRoot(dir string) (rootFS, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return rootFS{}, err
	}
	return rootFS{r}, nil
}

func (r rootFS) Close() error { return r.root.Close() }

// Open implements fs.FS.
func (r rootFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	info, err := r.root.Stat(name)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() && !info.IsDir() {
		return nil, &fs.PathError{Op: "open", Path: name, Err: errNotRegular}
	}
	f, err := r.root.OpenFile(name, os.O_RDONLY|openFlags, 0)
	if err != nil {
		return nil, err
	}
	if info, err = f.Stat(); err != nil || (!info.Mode().IsRegular() && !info.IsDir()) {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: name, Err: errNotRegular}
	}
	return f, nil
}

// Sub returns the directory dir of r as an fs.FS with the same checks.
func (r rootFS) Sub(dir string) (fs.FS, error) {
	if dir == "." {
		return r, nil
	}
	if !fs.ValidPath(dir) {
		return nil, &fs.PathError{Op: "sub", Path: dir, Err: fs.ErrInvalid}
	}
	return subFS{r, dir}, nil
}

type subFS struct {
	r   rootFS
	dir string
}

func (s subFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	return s.r.Open(path.Join(s.dir, name))
}

// openRegular opens name in dir if it is a regular file.
func openRegular(dir fs.FS, name string) (fs.File, error) {
	f, err := dir.Open(name)
	if err != nil {
		return nil, err
	}
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: name, Err: errNotRegular}
	}
	return f, nil
}

// readSmallFile reads name from dir if it is a regular file of at most
// limit bytes: the pages read results.json, test.json and messages.json
// this way, so that a huge or endless file in the store costs nothing.
func readSmallFile(dir fs.FS, name string, limit int64) ([]byte, error) {
	f, err := openRegular(dir, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil && info.Size() > limit {
		return nil, fmt.Errorf("report: %s: %d bytes, more than the %d read", name, info.Size(), limit)
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("report: %s: more than the %d bytes read", name, limit)
	}
	return b, nil
}
