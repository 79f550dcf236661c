// tlog_peer checks a transparency log as an outside auditor would, with Go's reference
// implementation of tiled logs and signed notes (golang.org/x/mod/sumdb/tlog and sumdb/note,
// Debian's golang-golang-x-mod-dev), none of qoltanba's code.
//
// Usage: tlog_peer DIR
//
// DIR holds:
//
//	key             the log's note verifier key (<name>+<id>+<base64 key>)
//	checkpoint      the signed checkpoint (C2SP tlog-checkpoint in a signed note)
//	tile/...        the C2SP tlog-tiles: hash tiles tile/<L>/<N>[.p/<W>] and entry bundles
//	                tile/entries/<N>[.p/<W>]
//	old-checkpoint  (optional) an earlier checkpoint: the tree must extend it
//	proofs          (optional) proofs made by the log, one per line:
//	                  inclusion INDEX HASH...      leaf INDEX in the checkpoint's tree
//	                  consistency HASH...          old-checkpoint's tree in checkpoint's
//	                hashes in base64
//
// Every tile read is authenticated against the checkpoint's root (tlog.TileHashReader), every
// entry's hash must be its leaf in the tiles, a spread of entries is proved with
// tlog.ProveRecord/CheckRecord, the root is recomputed from the tiles, and the log's own proofs
// are checked with CheckRecord/CheckTree. It prints one
// "ok:" line and exits 0, or prints "FAIL: why" and exits 1.
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func fail(format string, args ...interface{}) {
	fmt.Printf("FAIL: "+format+"\n", args...)
	os.Exit(1)
}

// c2spPath turns Go's tile path (tile/8/L/N, data tiles as tile/8/data/N) into C2SP's.
func c2spPath(t tlog.Tile) string {
	path := strings.TrimPrefix(t.Path(), "tile/8/")
	if strings.HasPrefix(path, "data/") {
		path = "entries/" + strings.TrimPrefix(path, "data/")
	}
	return "tile/" + path
}

type dirTiles struct{ dir string }

func (d dirTiles) Height() int { return 8 }

func (d dirTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		data, err := os.ReadFile(filepath.Join(d.dir, c2spPath(t)))
		if err != nil {
			return nil, err
		}
		out[i] = data
	}
	return out, nil
}

func (d dirTiles) SaveTiles(tiles []tlog.Tile, data [][]byte) {}

// openCheckpoint verifies a signed checkpoint with the key and reads its tree.
func openCheckpoint(path string, verifiers note.Verifiers) (string, tlog.Tree) {
	msg, err := os.ReadFile(path)
	if err != nil {
		fail("%v", err)
	}
	n, err := note.Open(msg, verifiers)
	if err != nil {
		fail("%s: %v", filepath.Base(path), err)
	}
	lines := strings.SplitN(n.Text, "\n", 4)
	if len(lines) < 4 {
		fail("%s: not a checkpoint: %q", filepath.Base(path), n.Text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		fail("%s: bad tree size %q", filepath.Base(path), lines[1])
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		fail("%s: bad root hash %q", filepath.Base(path), lines[2])
	}
	var hash tlog.Hash
	copy(hash[:], root)
	return lines[0], tlog.Tree{N: size, Hash: hash}
}

// entries reads the leaves of the tree from the entry bundles.
func entries(dir string, size int64) [][]byte {
	var out [][]byte
	for first := int64(0); first < size; first += 256 {
		width := size - first
		if width > 256 {
			width = 256
		}
		t := tlog.Tile{H: 8, L: -1, N: first / 256, W: int(width)}
		data, err := os.ReadFile(filepath.Join(dir, c2spPath(t)))
		if err != nil {
			fail("entry bundle: %v", err)
		}
		for len(data) > 0 {
			if len(data) < 2 {
				fail("%s: cut inside a length", c2spPath(t))
			}
			n := int(binary.BigEndian.Uint16(data))
			if len(data) < 2+n {
				fail("%s: cut inside an entry", c2spPath(t))
			}
			out = append(out, data[2:2+n])
			data = data[2+n:]
		}
		if int64(len(out)) != first+width {
			fail("%s: %d entries where %d belong", c2spPath(t), int64(len(out))-first, width)
		}
	}
	return out
}

func hashes(fields []string) []tlog.Hash {
	var out []tlog.Hash
	for _, f := range fields {
		b, err := base64.StdEncoding.DecodeString(f)
		if err != nil || len(b) != tlog.HashSize {
			fail("bad hash %q in proofs", f)
		}
		var h tlog.Hash
		copy(h[:], b)
		out = append(out, h)
	}
	return out
}

func main() {
	if len(os.Args) != 2 {
		fail("usage: tlog_peer DIR")
	}
	dir := os.Args[1]
	key, err := os.ReadFile(filepath.Join(dir, "key"))
	if err != nil {
		fail("%v", err)
	}
	verifier, err := note.NewVerifier(strings.TrimSpace(string(key)))
	if err != nil {
		fail("key: %v", err)
	}
	verifiers := note.VerifierList(verifier)
	origin, tree := openCheckpoint(filepath.Join(dir, "checkpoint"), verifiers)
	reader := tlog.TileHashReader(tree, dirTiles{dir})

	root, err := tlog.TreeHash(tree.N, reader)
	if err != nil {
		fail("tree hash from the tiles: %v", err)
	}
	if tree.N > 0 && root != tree.Hash {
		fail("the tiles give root %v, the checkpoint says %v", root, tree.Hash)
	}
	leaves := entries(dir, tree.N)
	// Every leaf hash in one read: the reader authenticates each tile it reads against the
	// checkpoint's root, so a leaf hash that matches its entry is in the tree.
	indexes := make([]int64, len(leaves))
	for i := range leaves {
		indexes[i] = tlog.StoredHashIndex(0, int64(i))
	}
	stored, err := reader.ReadHashes(indexes)
	if err != nil {
		fail("reading the leaf hashes from the tiles: %v", err)
	}
	for i, entry := range leaves {
		if stored[i] != tlog.RecordHash(entry) {
			fail("entry %d is not in the tree: its hash is not the tiles' leaf %d", i, i)
		}
	}
	// And a record proof, made by Go from the tiles, for a spread of entries.
	for i := int64(0); i < tree.N; i += 1 + tree.N/64 {
		for _, n := range []int64{i, tree.N - 1 - i} {
			proof, err := tlog.ProveRecord(tree.N, n, reader)
			if err != nil {
				fail("proving entry %d: %v", n, err)
			}
			if err := tlog.CheckRecord(proof, tree.N, tree.Hash, n, tlog.RecordHash(leaves[n])); err != nil {
				fail("entry %d is not in the tree: %v", n, err)
			}
		}
	}
	summary := fmt.Sprintf("ok: %s at size %d verified with %s; %d entries proved from tiles",
		origin, tree.N, verifier.Name(), len(leaves))

	var old *tlog.Tree
	if _, err := os.Stat(filepath.Join(dir, "old-checkpoint")); err == nil {
		oldOrigin, oldTree := openCheckpoint(filepath.Join(dir, "old-checkpoint"), verifiers)
		if oldOrigin != origin {
			fail("the old checkpoint is of another log: %q", oldOrigin)
		}
		proof, err := tlog.ProveTree(tree.N, oldTree.N, reader)
		if err != nil {
			fail("proving consistency from the tiles: %v", err)
		}
		if err := tlog.CheckTree(proof, tree.N, tree.Hash, oldTree.N, oldTree.Hash); err != nil {
			fail("the log does not extend the old checkpoint (%d): %v", oldTree.N, err)
		}
		old = &oldTree
		summary += fmt.Sprintf("; consistent with the checkpoint at %d", oldTree.N)
	}

	if file, err := os.Open(filepath.Join(dir, "proofs")); err == nil {
		count := 0
		scanner := bufio.NewScanner(file)
		scanner.Buffer(make([]byte, 1<<20), 1<<20)
		for scanner.Scan() {
			fields := strings.Fields(scanner.Text())
			if len(fields) == 0 {
				continue
			}
			switch fields[0] {
			case "inclusion":
				if len(fields) < 2 {
					fail("inclusion needs an index")
				}
				index, err := strconv.ParseInt(fields[1], 10, 64)
				if err != nil || index < 0 || index >= int64(len(leaves)) {
					fail("bad index %q", fields[1])
				}
				leaf := tlog.RecordHash(leaves[index])
				if err := tlog.CheckRecord(hashes(fields[2:]), tree.N, tree.Hash, index, leaf); err != nil {
					fail("the log's inclusion proof of %d: %v", index, err)
				}
			case "consistency":
				if old == nil {
					fail("a consistency proof without old-checkpoint")
				}
				if err := tlog.CheckTree(hashes(fields[1:]), tree.N, tree.Hash, old.N, old.Hash); err != nil {
					fail("the log's consistency proof %d→%d: %v", old.N, tree.N, err)
				}
			default:
				fail("unknown proof %q", fields[0])
			}
			count++
		}
		summary += fmt.Sprintf("; %d of the log's proofs checked", count)
	}
	fmt.Println(summary)
}
