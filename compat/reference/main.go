// Command reference is tsmdb's differential-testing oracle: it answers requests from the Rust
// compatibility suite (package tsmdb-compat) by calling InfluxDB 1.6.7's own Go packages
// (models and tsdb/engine/tsm1) as libraries. It contains no InfluxDB code.
//
// Protocol: one JSON request per line on stdin, one JSON response per line on stdout, in order.
// Byte strings travel as lowercase hex; every value travels as a string so that no JSON number
// loses precision: floats as the decimal u64 of their IEEE-754 bits, integers and unsigned in
// decimal, booleans as "true"/"false", strings as hex.
//
// Build (GOPATH mode, Debian's packaged sources):
//
//	GOPATH=$tmp:/usr/share/gocode GO111MODULE=off go build -o reference .
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"time"

	"github.com/golang/snappy"
	"github.com/influxdata/influxdb/models"
	"github.com/influxdata/influxdb/tsdb/engine/tsm1"
)

// Request is every request kind in one struct; Op picks the kind.
type Request struct {
	Op        string   `json:"op"`
	Data      string   `json:"data,omitempty"`
	Precision string   `json:"precision,omitempty"`
	Now       int64    `json:"now,omitempty"`
	Type      string   `json:"type,omitempty"`
	Values    []string `json:"values,omitempty"`
	Times     []int64  `json:"times,omitempty"`
	Tombstone string   `json:"tombstone,omitempty"`
	Series    []Series `json:"series,omitempty"`
	Keys      []string `json:"keys,omitempty"`
	Min       int64    `json:"min,omitempty"`
	Max       int64    `json:"max,omitempty"`
	Entries   []Entry  `json:"entries,omitempty"`
}

// Series is one key's values (TSM files and WAL write entries).
type Series struct {
	Key        string     `json:"key"`
	Type       string     `json:"type"`
	Times      []int64    `json:"times"`
	Values     []string   `json:"values"`
	Tombstones [][2]int64 `json:"tombstones,omitempty"`
}

// Entry is one WAL entry.
type Entry struct {
	Kind   string   `json:"kind"` // write | delete | delete_range
	Series []Series `json:"series,omitempty"`
	Keys   []string `json:"keys,omitempty"`
	Min    int64    `json:"min,omitempty"`
	Max    int64    `json:"max,omitempty"`
}

// Field is one parsed field of a point.
type Field struct {
	Key   string `json:"key"`
	Type  string `json:"type"`
	Value string `json:"value,omitempty"`
	Err   string `json:"err,omitempty"`
}

// Point is one parsed point.
type Point struct {
	Key    string      `json:"key"`
	Name   string      `json:"name"`
	Tags   [][2]string `json:"tags"`
	Fields []Field     `json:"fields"`
	Time   int64       `json:"time"`
}

// Response is every response kind in one struct.
type Response struct {
	Ok        bool     `json:"ok"`
	Err       string   `json:"err,omitempty"`
	Points    []Point  `json:"points,omitempty"`
	Data      string   `json:"data,omitempty"`
	Type      string   `json:"type,omitempty"`
	Values    []string `json:"values,omitempty"`
	Times     []int64  `json:"times,omitempty"`
	Series    []Series `json:"series,omitempty"`
	Entries   []Entry  `json:"entries,omitempty"`
	Count     int64    `json:"count,omitempty"`
	Tombstone string   `json:"tombstone,omitempty"`
}

func main() {
	models.EnableUintSupport() // tsmdb always accepts the `u` suffix (docs/compatibility.md)
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	out := bufio.NewWriterSize(os.Stdout, 1<<20)
	enc := json.NewEncoder(out)
	for {
		line, err := in.ReadBytes('\n')
		if len(line) == 0 && err != nil {
			out.Flush()
			return
		}
		var req Request
		var resp Response
		if jerr := json.Unmarshal(line, &req); jerr != nil {
			resp = Response{Err: "bad request: " + jerr.Error()}
		} else {
			resp = handle(&req)
		}
		if eerr := enc.Encode(&resp); eerr != nil {
			fmt.Fprintln(os.Stderr, "reference: encode:", eerr)
			os.Exit(2)
		}
		out.Flush()
	}
}

// handle runs one request; a panic inside InfluxDB's code becomes an error response.
func handle(req *Request) (resp Response) {
	defer func() {
		if r := recover(); r != nil {
			resp = Response{Err: fmt.Sprintf("panic: %v", r)}
		}
	}()
	var err error
	switch req.Op {
	case "ping":
	case "parse":
		resp, err = parse(req)
	case "encode":
		resp.Data, err = encodeSection(req.Type, req.Values)
	case "decode":
		resp.Values, err = decodeSection(req)
	case "block_encode":
		resp.Data, err = blockEncode(req)
	case "block_decode":
		resp, err = blockDecode(req)
	case "tsm_write", "tsm_read", "tsm_delete", "wal_write", "wal_read":
		resp, err = withFiles(req)
	default:
		err = fmt.Errorf("unknown op %q", req.Op)
	}
	if err != nil {
		resp.Err = err.Error()
		return resp
	}
	resp.Ok = true
	return resp
}

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(fmt.Sprintf("bad hex: %v", err))
	}
	return b
}

var typeNames = map[models.FieldType]string{
	models.Integer: "integer", models.Float: "float", models.Boolean: "boolean",
	models.String: "string", models.Unsigned: "unsigned", models.Empty: "empty",
}

func parse(req *Request) (Response, error) {
	pts, perr := models.ParsePointsWithPrecision(unhex(req.Data), time.Unix(0, req.Now).UTC(), req.Precision)
	resp := Response{Ok: true}
	if perr != nil {
		resp.Err = hex.EncodeToString([]byte(perr.Error()))
	}
	for _, p := range pts {
		out := Point{
			Key:  hex.EncodeToString(p.Key()),
			Name: hex.EncodeToString(p.Name()),
			Time: p.UnixNano(),
		}
		for _, t := range p.Tags() {
			out.Tags = append(out.Tags, [2]string{hex.EncodeToString(t.Key), hex.EncodeToString(t.Value)})
		}
		it := p.FieldIterator()
		for it.Next() {
			f := Field{Key: hex.EncodeToString(it.FieldKey()), Type: typeNames[it.Type()]}
			var err error
			switch it.Type() {
			case models.Float:
				var v float64
				v, err = it.FloatValue()
				f.Value = strconv.FormatUint(math.Float64bits(v), 10)
			case models.Integer:
				var v int64
				v, err = it.IntegerValue()
				f.Value = strconv.FormatInt(v, 10)
			case models.Unsigned:
				var v uint64
				v, err = it.UnsignedValue()
				f.Value = strconv.FormatUint(v, 10)
			case models.Boolean:
				var v bool
				v, err = it.BooleanValue()
				f.Value = strconv.FormatBool(v)
			case models.String:
				f.Value = hex.EncodeToString([]byte(it.StringValue()))
			}
			if err != nil {
				f.Err = err.Error()
				f.Value = ""
			}
			out.Fields = append(out.Fields, f)
		}
		resp.Points = append(resp.Points, out)
	}
	return resp, nil
}

// value converts one wire value of the given type to a tsm1.Value at time t.
func value(typ string, t int64, s string) (tsm1.Value, error) {
	switch typ {
	case "float":
		bits, err := strconv.ParseUint(s, 10, 64)
		return tsm1.NewFloatValue(t, math.Float64frombits(bits)), err
	case "integer":
		v, err := strconv.ParseInt(s, 10, 64)
		return tsm1.NewIntegerValue(t, v), err
	case "unsigned":
		v, err := strconv.ParseUint(s, 10, 64)
		return tsm1.NewUnsignedValue(t, v), err
	case "boolean":
		v, err := strconv.ParseBool(s)
		return tsm1.NewBooleanValue(t, v), err
	case "string":
		b, err := hex.DecodeString(s)
		return tsm1.NewStringValue(t, string(b)), err
	}
	return nil, fmt.Errorf("unknown type %q", typ)
}

// wire converts a tsm1.Value back to its type name and wire string.
func wire(v tsm1.Value) (string, string) {
	switch x := v.Value().(type) {
	case float64:
		return "float", strconv.FormatUint(math.Float64bits(x), 10)
	case int64:
		return "integer", strconv.FormatInt(x, 10)
	case uint64:
		return "unsigned", strconv.FormatUint(x, 10)
	case bool:
		return "boolean", strconv.FormatBool(x)
	case string:
		return "string", hex.EncodeToString([]byte(x))
	}
	return "unknown", ""
}

func toValues(s *Series) (tsm1.Values, error) {
	if len(s.Times) != len(s.Values) {
		return nil, fmt.Errorf("%d times but %d values", len(s.Times), len(s.Values))
	}
	vals := make(tsm1.Values, len(s.Times))
	for i := range s.Times {
		v, err := value(s.Type, s.Times[i], s.Values[i])
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	return vals, nil
}

func fromValues(key []byte, vals []tsm1.Value) Series {
	s := Series{Key: hex.EncodeToString(key), Times: []int64{}, Values: []string{}}
	for _, v := range vals {
		typ, w := wire(v)
		s.Type = typ
		s.Times = append(s.Times, v.UnixNano())
		s.Values = append(s.Values, w)
	}
	return s
}

func encodeSection(typ string, values []string) (string, error) {
	var b []byte
	var err error
	switch typ {
	case "time":
		e := tsm1.NewTimeEncoder(len(values))
		for _, s := range values {
			v, perr := strconv.ParseInt(s, 10, 64)
			if perr != nil {
				return "", perr
			}
			e.Write(v)
		}
		b, err = e.Bytes()
	case "float":
		e := tsm1.NewFloatEncoder()
		for _, s := range values {
			v, perr := strconv.ParseUint(s, 10, 64)
			if perr != nil {
				return "", perr
			}
			e.Write(math.Float64frombits(v))
		}
		e.Flush()
		b, err = e.Bytes()
	case "integer", "unsigned":
		e := tsm1.NewIntegerEncoder(len(values))
		for _, s := range values {
			var v int64
			if typ == "integer" {
				v, err = strconv.ParseInt(s, 10, 64)
			} else {
				var u uint64
				u, err = strconv.ParseUint(s, 10, 64)
				v = int64(u)
			}
			if err != nil {
				return "", err
			}
			e.Write(v)
		}
		b, err = e.Bytes()
	case "boolean":
		e := tsm1.NewBooleanEncoder(len(values))
		for _, s := range values {
			v, perr := strconv.ParseBool(s)
			if perr != nil {
				return "", perr
			}
			e.Write(v)
		}
		b, err = e.Bytes()
	case "string":
		e := tsm1.NewStringEncoder(len(values))
		for _, s := range values {
			e.Write(string(unhex(s)))
		}
		b, err = e.Bytes()
	default:
		return "", fmt.Errorf("unknown type %q", typ)
	}
	return hex.EncodeToString(b), err
}

// decodeSection decodes a bare section; a decoder that never stops is cut off at limit values.
func decodeSection(req *Request) ([]string, error) {
	const limit = maxClaim
	b := unhex(req.Data)
	if err := sectionClaim(req.Type, b); err != nil {
		return nil, err
	}
	out := []string{}
	switch req.Type {
	case "time":
		var d tsm1.TimeDecoder
		d.Init(b)
		for d.Next() && len(out) < limit {
			out = append(out, strconv.FormatInt(d.Read(), 10))
		}
		return out, d.Error()
	case "float":
		var d tsm1.FloatDecoder
		if err := d.SetBytes(b); err != nil {
			return nil, err
		}
		for d.Next() && len(out) < limit {
			out = append(out, strconv.FormatUint(math.Float64bits(d.Values()), 10))
		}
		return out, d.Error()
	case "integer", "unsigned":
		var d tsm1.IntegerDecoder
		d.SetBytes(b)
		for d.Next() && len(out) < limit {
			if req.Type == "integer" {
				out = append(out, strconv.FormatInt(d.Read(), 10))
			} else {
				out = append(out, strconv.FormatUint(uint64(d.Read()), 10))
			}
		}
		return out, d.Error()
	case "boolean":
		var d tsm1.BooleanDecoder
		d.SetBytes(b)
		for d.Next() && len(out) < limit {
			out = append(out, strconv.FormatBool(d.Read()))
		}
		return out, d.Error()
	case "string":
		var d tsm1.StringDecoder
		if err := d.SetBytes(b); err != nil {
			return nil, err
		}
		for d.Next() && len(out) < limit {
			out = append(out, hex.EncodeToString([]byte(d.Read())))
		}
		return out, d.Error()
	}
	return nil, fmt.Errorf("unknown type %q", req.Type)
}

func blockEncode(req *Request) (string, error) {
	vals, err := toValues(&Series{Type: req.Type, Times: req.Times, Values: req.Values})
	if err != nil {
		return "", err
	}
	b, err := vals.Encode(nil)
	return hex.EncodeToString(b), err
}

func blockDecode(req *Request) (Response, error) {
	b := unhex(req.Data)
	if err := blockClaim(b); err != nil {
		return Response{}, err
	}
	vals, err := tsm1.DecodeBlock(b, nil)
	if err != nil {
		return Response{}, err
	}
	s := fromValues(nil, vals)
	return Response{Type: s.Type, Times: s.Times, Values: s.Values}, nil
}

// withFiles runs a file request in a fresh temporary directory: files travel as hex in the
// request and response, so every exchange is self-contained and can be recorded.
func withFiles(req *Request) (Response, error) {
	dir, err := os.MkdirTemp("", "tsmdb-compat-")
	if err != nil {
		return Response{}, err
	}
	defer os.RemoveAll(dir)
	tsm := dir + "/000000001-000000001.tsm"
	tomb := dir + "/000000001-000000001.tombstone"
	wal := dir + "/_00001.wal"
	// A file always exists (possibly empty); a tombstone file only when given.
	put := func(path, data string) error {
		if data == "" && path == tomb {
			return nil
		}
		return os.WriteFile(path, unhex(data), 0o644)
	}
	get := func(path string) (string, error) {
		b, err := os.ReadFile(path)
		if os.IsNotExist(err) {
			return "", nil
		}
		return hex.EncodeToString(b), err
	}
	var resp Response
	switch req.Op {
	case "tsm_write":
		if err = tsmWrite(tsm, req); err == nil {
			resp.Data, err = get(tsm)
		}
	case "tsm_read":
		if err = put(tsm, req.Data); err == nil {
			if err = put(tomb, req.Tombstone); err == nil {
				resp.Series, err = tsmRead(tsm)
			}
		}
	case "tsm_delete":
		if err = put(tsm, req.Data); err == nil {
			if err = put(tomb, req.Tombstone); err == nil {
				if err = tsmDelete(tsm, req); err == nil {
					resp.Tombstone, err = get(tomb)
				}
			}
		}
	case "wal_write":
		if err = walWrite(wal, req); err == nil {
			resp.Data, err = get(wal)
		}
	case "wal_read":
		data, cut := cutAtOverlongFrame(unhex(req.Data))
		if err = put(wal, hex.EncodeToString(data)); err == nil {
			resp, err = walRead(wal)
			if cut && resp.Err == "" {
				resp.Err = io.ErrUnexpectedEOF.Error()
			}
		}
	}
	return resp, err
}

// tsmWrite writes the series in the order given, 1000 values per block, as compactions do.
func tsmWrite(path string, req *Request) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w, err := tsm1.NewTSMWriter(f)
	if err != nil {
		return err
	}
	for i := range req.Series {
		vals, err := toValues(&req.Series[i])
		if err != nil {
			return err
		}
		key := unhex(req.Series[i].Key)
		for start := 0; start < len(vals); start += 1000 {
			end := start + 1000
			if end > len(vals) {
				end = len(vals)
			}
			if err := w.Write(key, vals[start:end]); err != nil {
				w.Close()
				return err
			}
		}
	}
	if err := w.WriteIndex(); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

func openTSM(path string) (*tsm1.TSMReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := tsm1.NewTSMReader(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

// tsmRead returns every key with its values after tombstones, and the tombstoned ranges.
func tsmRead(path string) ([]Series, error) {
	r, err := openTSM(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	out := []Series{}
	for i := 0; i < r.KeyCount(); i++ {
		key, _ := r.KeyAt(i)
		vals, err := r.ReadAll(key)
		if err != nil {
			return nil, fmt.Errorf("key %q: %v", key, err)
		}
		s := fromValues(key, vals)
		if s.Type == "" {
			typ, err := r.Type(key)
			if err != nil {
				return nil, err
			}
			s.Type = blockTypeName(typ)
		}
		for _, tr := range r.TombstoneRange(key) {
			s.Tombstones = append(s.Tombstones, [2]int64{tr.Min, tr.Max})
		}
		out = append(out, s)
	}
	return out, nil
}

func blockTypeName(b byte) string {
	switch b {
	case tsm1.BlockFloat64:
		return "float"
	case tsm1.BlockInteger:
		return "integer"
	case tsm1.BlockBoolean:
		return "boolean"
	case tsm1.BlockString:
		return "string"
	case tsm1.BlockUnsigned:
		return "unsigned"
	}
	return "unknown"
}

// tsmDelete records a tombstone for keys over [min, max] next to the file.
func tsmDelete(path string, req *Request) error {
	r, err := openTSM(path)
	if err != nil {
		return err
	}
	defer r.Close()
	keys := make([][]byte, len(req.Keys))
	for i, k := range req.Keys {
		keys[i] = unhex(k)
	}
	return r.DeleteRange(keys, req.Min, req.Max)
}

func walWrite(path string, req *Request) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := tsm1.NewWALSegmentWriter(f)
	for _, e := range req.Entries {
		var entry tsm1.WALEntry
		switch e.Kind {
		case "write":
			values := map[string][]tsm1.Value{}
			for i := range e.Series {
				vals, err := toValues(&e.Series[i])
				if err != nil {
					return err
				}
				values[string(unhex(e.Series[i].Key))] = vals
			}
			entry = &tsm1.WriteWALEntry{Values: values}
		case "delete":
			keys := make([][]byte, len(e.Keys))
			for i, k := range e.Keys {
				keys[i] = unhex(k)
			}
			entry = &tsm1.DeleteWALEntry{Keys: keys}
		case "delete_range":
			keys := make([][]byte, len(e.Keys))
			for i, k := range e.Keys {
				keys[i] = unhex(k)
			}
			entry = &tsm1.DeleteRangeWALEntry{Keys: keys, Min: e.Min, Max: e.Max}
		default:
			return fmt.Errorf("unknown entry kind %q", e.Kind)
		}
		b, err := entry.Encode(nil)
		if err != nil {
			return err
		}
		if err := w.Write(entry.Type(), snappy.Encode(nil, b)); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// maxClaim bounds what a damaged input may make InfluxDB allocate: its decoders size buffers from
// counts and lengths they never check (a 48-byte block can ask for 2^60 values and kill the
// process with "out of memory", which recover cannot catch). Real blocks hold at most 1000 values.
const maxClaim = 1 << 20

// refusal is the error the reference gives instead of letting InfluxDB allocate a claimed size.
func refusal(what string, n uint64) error {
	return fmt.Errorf("refused: input claims %d %s (InfluxDB would allocate them unchecked)", n, what)
}

// snappyClaim checks the decoded length a snappy block claims.
func snappyClaim(b []byte) error {
	if n, err := snappy.DecodedLen(b); err == nil && n > 64*maxClaim {
		return refusal("decoded bytes", uint64(n))
	}
	return nil
}

// sectionClaim checks the value count or decoded size a section of type typ claims.
func sectionClaim(typ string, b []byte) error {
	switch {
	case len(b) == 0:
		return nil
	case typ == "time":
		if n := tsm1.CountTimestamps(b); n > maxClaim || n < 0 {
			return refusal("timestamps", uint64(n))
		}
	case typ == "string":
		return snappyClaim(b[1:])
	}
	return nil
}

// blockClaim checks a whole block's timestamp count and, for strings, its decoded size.
func blockClaim(b []byte) error {
	if len(b) < 2 {
		return nil
	}
	tl, n := binary.Uvarint(b[1:])
	if n <= 0 || tl > uint64(len(b)-1-n) {
		return nil // malformed framing: InfluxDB rejects it without allocating
	}
	ts, values := b[1+n:1+n+int(tl)], b[1+n+int(tl):]
	if err := sectionClaim("time", ts); err != nil {
		return err
	}
	if b[0] == tsm1.BlockString {
		return sectionClaim("string", values)
	}
	return nil
}

// cutAtOverlongFrame ends a segment at the first frame whose length field claims more bytes than
// the segment has left (or whose snappy body claims an absurd decoded size; InfluxDB would
// allocate that too and then fail on the entry). InfluxDB's reader would allocate the claimed length (up to 4 GiB) and then
// stop there with "unexpected EOF" after replaying every earlier entry; cutting the input at that
// frame and reporting the same error gives the same answer without the allocation.
func cutAtOverlongFrame(b []byte) ([]byte, bool) {
	for off := 0; off+5 <= len(b); {
		n := int64(binary.BigEndian.Uint32(b[off+1 : off+5]))
		if n > int64(len(b)-off-5) {
			return b[:off], true
		}
		if snappyClaim(b[off+5:off+5+int(n)]) != nil {
			return b[:off], true
		}
		off += 5 + int(n)
	}
	return b, false
}

// walRead replays a segment. Write entries come back with keys sorted (upstream holds them in a
// map); an error after some entries returns those entries and the error text, like replay does.
func walRead(path string) (Response, error) {
	f, err := os.Open(path)
	if err != nil {
		return Response{}, err
	}
	r := tsm1.NewWALSegmentReader(f)
	defer r.Close()
	resp := Response{Ok: true, Entries: []Entry{}}
	for r.Next() {
		entry, err := r.Read()
		if err != nil {
			resp.Err = err.Error()
			break
		}
		switch e := entry.(type) {
		case *tsm1.WriteWALEntry:
			keys := make([]string, 0, len(e.Values))
			for k := range e.Values {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			out := Entry{Kind: "write", Series: []Series{}}
			for _, k := range keys {
				out.Series = append(out.Series, fromValues([]byte(k), e.Values[k]))
			}
			resp.Entries = append(resp.Entries, out)
		case *tsm1.DeleteWALEntry:
			out := Entry{Kind: "delete", Keys: []string{}}
			for _, k := range e.Keys {
				out.Keys = append(out.Keys, hex.EncodeToString(k))
			}
			resp.Entries = append(resp.Entries, out)
		case *tsm1.DeleteRangeWALEntry:
			out := Entry{Kind: "delete_range", Keys: []string{}, Min: e.Min, Max: e.Max}
			for _, k := range e.Keys {
				out.Keys = append(out.Keys, hex.EncodeToString(k))
			}
			resp.Entries = append(resp.Entries, out)
		}
	}
	resp.Count = r.Count()
	return resp, nil
}
