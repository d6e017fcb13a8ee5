package client

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/roster-registry/roster/proto"
)

// A cache file holds one subscription key's list as JSON: readable by an
// operator, and small next to the lists it holds (written only when a push
// changed the list, by one goroutine).
type cacheFile struct {
	DataInfoID string         `json:"dataInfoId"`
	Zone       string         `json:"zone,omitempty"`
	Version    uint64         `json:"version"`
	Publishers []cachedPubRec `json:"publishers"`
}

type cachedPubRec struct {
	RegisterID string       `json:"registerId"`
	Zone       string       `json:"zone,omitempty"`
	Version    uint64       `json:"version"`
	Data       []string     `json:"data"`
	Attrs      []proto.Attr `json:"attrs,omitempty"`
	DataCenter string       `json:"dataCenter,omitempty"`
}

const (
	cachePrefix = "sub-"
	cacheSuffix = ".json"
	cacheTemp   = ".tmp-" // an unfinished write; deleted when found at start
)

// cacheName is the file name of a key: a hash, since a dataInfoId may be
// 512 bytes of any printable characters, which no file system takes as a
// name. The file names its key inside (decodeCache checks it).
func cacheName(k subKey) string {
	h := sha256.Sum256([]byte(k.dataInfoID + "\x00" + k.zone))
	return cachePrefix + hex.EncodeToString(h[:16]) + cacheSuffix
}

// encodeCache renders l as the file of key k.
func encodeCache(k subKey, l *pubList) ([]byte, error) {
	f := cacheFile{DataInfoID: k.dataInfoID, Zone: k.zone, Version: l.version, Publishers: make([]cachedPubRec, 0, l.count())}
	for _, pp := range l.all() {
		f.Publishers = append(f.Publishers, cachedPubRec{RegisterID: pp.RegisterID, Zone: pp.Zone, Version: pp.Version, Data: pp.Data, Attrs: pp.Attrs, DataCenter: pp.DataCenter})
	}
	return json.Marshal(&f)
}

// decodeCache parses the file of key k. Nothing on disk is trusted: the
// file must name k, and hold at most the protocol's limits per publisher.
func decodeCache(k subKey, b []byte) (*pubList, error) {
	var f cacheFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, err
	}
	if f.DataInfoID != k.dataInfoID || f.Zone != k.zone {
		return nil, errors.New("the file is another subscription's")
	}
	pubs := make([]proto.PushPublisher, len(f.Publishers))
	for i, p := range f.Publishers {
		if p.RegisterID == "" || len(p.RegisterID) > proto.MaxIDLen || len(p.Data) > proto.MaxDataItems || !attrsWithinLimits(p.Attrs) {
			return nil, errors.New("a publisher is over the protocol's limits")
		}
		if len(p.Attrs) == 0 {
			p.Attrs = nil
		}
		if len(p.DataCenter) > proto.MaxDataCenterLen {
			return nil, errors.New("a publisher's data center is over the protocol's limit")
		}
		pubs[i] = proto.PushPublisher{RegisterID: p.RegisterID, Zone: p.Zone, Version: p.Version, Data: p.Data, Attrs: p.Attrs, DataCenter: p.DataCenter}
	}
	l, ok := newList(f.Version, pubs, 0)
	if !ok {
		return nil, errors.New("the list is too large")
	}
	return l, nil
}

func attrsWithinLimits(attrs []proto.Attr) bool {
	n := 0
	for _, a := range attrs {
		n += len(a.Key) + len(a.Value)
	}
	return len(attrs) <= proto.MaxAttrs && n <= proto.MaxAttrsBytes
}

// readCache reads the list of k from dir; a missing file is (nil, nil).
func readCache(dir string, k subKey) (*pubList, error) {
	f, err := os.Open(filepath.Join(dir, cacheName(k)))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxCacheFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxCacheFile {
		return nil, fmt.Errorf("over %d bytes", maxCacheFile)
	}
	return decodeCache(k, b)
}

// writeFileAtomic replaces dir/name with b: a reader (or a crash) sees the
// old file or the new one, never a part. The temporary file is created
// 0600 by os.CreateTemp, and synced before the rename so the rename never
// lands ahead of the data.
func writeFileAtomic(dir, name string, b []byte) error {
	tmp, err := os.CreateTemp(dir, cacheTemp+"*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, name))
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
	}
	return err
}

// isCacheName reports whether a directory entry is a list file.
func isCacheName(name string) bool {
	return strings.HasPrefix(name, cachePrefix) && strings.HasSuffix(name, cacheSuffix)
}
