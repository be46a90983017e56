// kload: the native load generator of `npm run bench:kafka` (the "native client" rows).
//
// The project's pipelined client (bench/kafka/wire.ts) runs in Node and shares the two cores of the
// benchmark machine with the broker it measures; against the no-op server it reads at ~1 GB/s and
// no more, so a broker serving faster could not show it. kload does the same work with far less
// CPU: the standard library only, one goroutine per direction of a connection, requests and
// responses handled as bytes in reused buffers, several frames coalesced into one writev.
//
//	kload produce -topic T -leaders 9092:0,2,4/9093:1,3,5 -partitions 6 -records N -record-bytes 100 -acks 1
//	kload consume -topic T -leaders 9092:0 -records N [-at-least]
//
// produce: pre-encoded Produce v7 requests of -batch-records records each (one frame per
// partition, reused), request i going to partition i % partitions, -window requests in flight on
// each leader's connection; every response's error codes are checked. consume: Fetch v11 from
// offset 0 of every partition, one request in flight per leader (as a consumer fetches), whole
// batches counted (a batch cut short at the end of a response is fetched again), until -records
// records have arrived from all leaders together (more is an error unless -at-least: the no-op
// server serves copies of one batch). Batch CRCs are not checked (neither does librdkafka by
// default). Prints {"secs":S,"records":N} on success; an error on stderr and exit 1 otherwise.
package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	apiProduce      = 0
	apiFetch        = 1
	maxResponseSize = 256 << 20 // a response larger than this is a broken frame, not data
	stallTimeout    = 30 * time.Second
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// leader is one broker's port and the partitions it leads.
type leader struct {
	port  int
	parts []int32
}

func parseLeaders(s string) ([]leader, error) {
	var out []leader
	for _, item := range strings.Split(s, "/") {
		portStr, partsStr, ok := strings.Cut(item, ":")
		if !ok {
			return nil, fmt.Errorf("-leaders: %q is not PORT:P,P,…", item)
		}
		port, err := strconv.Atoi(portStr)
		if err != nil {
			return nil, fmt.Errorf("-leaders: port %q", portStr)
		}
		l := leader{port: port}
		for _, p := range strings.Split(partsStr, ",") {
			n, err := strconv.Atoi(p)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("-leaders: partition %q", p)
			}
			l.parts = append(l.parts, int32(n))
		}
		out = append(out, l)
	}
	return out, nil
}

// --- encoding (big-endian, Kafka's non-flexible versions)

type enc struct{ b []byte }

func (e *enc) i8(v int8)    { e.b = append(e.b, byte(v)) }
func (e *enc) i16(v int16)  { e.b = binary.BigEndian.AppendUint16(e.b, uint16(v)) }
func (e *enc) i32(v int32)  { e.b = binary.BigEndian.AppendUint32(e.b, uint32(v)) }
func (e *enc) i64(v int64)  { e.b = binary.BigEndian.AppendUint64(e.b, uint64(v)) }
func (e *enc) str(s string) { e.i16(int16(len(s))); e.b = append(e.b, s...) }
func (e *enc) varint(v int64) {
	e.b = binary.AppendUvarint(e.b, uint64((v<<1)^(v>>63)))
}

// frame wraps a request body in its size and request header v1 (client id "kload").
func frame(apiKey, version int16, correlation int32, body []byte) []byte {
	e := enc{b: make([]byte, 4, 4+2+2+4+2+5+len(body))}
	e.i16(apiKey)
	e.i16(version)
	e.i32(correlation)
	e.str("kload")
	e.b = append(e.b, body...)
	binary.BigEndian.PutUint32(e.b[0:4], uint32(len(e.b)-4))
	return e.b
}

// recordBatch encodes a magic-2 batch of n records of value bytes each (no key, no headers).
func recordBatch(n int, value []byte) []byte {
	var recs enc
	for i := 0; i < n; i++ {
		var r enc
		r.i8(0)     // attributes
		r.varint(0) // timestamp delta
		r.varint(int64(i))
		r.varint(-1) // null key
		r.varint(int64(len(value)))
		r.b = append(r.b, value...)
		r.varint(0) // headers
		recs.varint(int64(len(r.b)))
		recs.b = append(recs.b, r.b...)
	}
	now := time.Now().UnixMilli()
	var b enc
	b.i64(0)  // base offset
	b.i32(0)  // batch length, below
	b.i32(-1) // partition leader epoch
	b.i8(2)   // magic
	b.i32(0)  // crc, below
	crcFrom := len(b.b)
	b.i16(0) // attributes: no compression, create time
	b.i32(int32(n - 1))
	b.i64(now)
	b.i64(now)
	b.i64(-1) // producer id
	b.i16(-1) // producer epoch
	b.i32(-1) // base sequence
	b.i32(int32(n))
	b.b = append(b.b, recs.b...)
	binary.BigEndian.PutUint32(b.b[8:12], uint32(len(b.b)-12))
	binary.BigEndian.PutUint32(b.b[17:21], crc32.Checksum(b.b[crcFrom:], castagnoli))
	return b.b
}

func produceV7(topic string, partition int32, acks int16, batch []byte) []byte {
	var e enc
	e.i16(-1) // transactional id: null
	e.i16(acks)
	e.i32(30_000)
	e.i32(1)
	e.str(topic)
	e.i32(1)
	e.i32(partition)
	e.i32(int32(len(batch)))
	e.b = append(e.b, batch...)
	return frame(apiProduce, 7, 0, e.b)
}

func fetchV11(topic string, parts []int32, offsets []int64) []byte {
	var e enc
	e.i32(-1)       // replica id: a consumer
	e.i32(500)      // max wait ms
	e.i32(1)        // min bytes
	e.i32(50 << 20) // max bytes
	e.i8(0)         // read uncommitted
	e.i32(0)        // no fetch session
	e.i32(-1)
	e.i32(1)
	e.str(topic)
	e.i32(int32(len(parts)))
	for i, p := range parts {
		e.i32(p)
		e.i32(-1) // current leader epoch: unknown
		e.i64(offsets[i])
		e.i64(-1) // log start offset: a consumer's
		e.i32(1 << 20)
	}
	e.i32(0)  // forgotten topics
	e.str("") // rack id
	return frame(apiFetch, 11, 0, e.b)
}

// --- decoding

var errShort = errors.New("response shorter than its fields")

type dec struct {
	b   []byte
	off int
	err error
}

func (d *dec) need(n int) bool {
	if d.err == nil && d.off+n > len(d.b) {
		d.err = errShort
	}
	return d.err == nil
}
func (d *dec) i16() int16 {
	if !d.need(2) {
		return 0
	}
	v := int16(binary.BigEndian.Uint16(d.b[d.off:]))
	d.off += 2
	return v
}
func (d *dec) i32() int32 {
	if !d.need(4) {
		return 0
	}
	v := int32(binary.BigEndian.Uint32(d.b[d.off:]))
	d.off += 4
	return v
}
func (d *dec) skip(n int) {
	if n < 0 {
		d.err = errShort
	} else if d.need(n) {
		d.off += n
	}
}
func (d *dec) str() string {
	n := int(d.i16())
	if n < 0 || !d.need(n) {
		return ""
	}
	s := string(d.b[d.off : d.off+n])
	d.off += n
	return s
}

// count returns an array length, refusing one its remaining bytes cannot hold (minSize each).
func (d *dec) count(minSize int) int {
	n := int(d.i32())
	if n < 0 || (d.err == nil && n*minSize > len(d.b)-d.off) {
		if d.err == nil {
			d.err = fmt.Errorf("array of %d entries in %d bytes", n, len(d.b)-d.off)
		}
		return 0
	}
	return n
}

// reader reads whole response frames into one buffer it reuses.
type reader struct {
	r   *bufio.Reader
	buf []byte
}

func (r *reader) next() ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(r.r, size[:]); err != nil {
		return nil, err
	}
	n := int(int32(binary.BigEndian.Uint32(size[:])))
	if n < 4 || n > maxResponseSize {
		return nil, fmt.Errorf("response frame of %d bytes", n)
	}
	if cap(r.buf) < n {
		r.buf = make([]byte, n)
	}
	r.buf = r.buf[:n]
	if _, err := io.ReadFull(r.r, r.buf); err != nil {
		return nil, err
	}
	return r.buf, nil
}

func dial(port int) (net.Conn, *reader, error) {
	c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, nil, err
	}
	return c, &reader{r: bufio.NewReaderSize(c, 1<<20)}, nil
}

// --- produce

func produceErrors(resp []byte) error {
	d := dec{b: resp, off: 4} // after the correlation id
	for t := d.count(6); t > 0; t-- {
		name := d.str()
		for p := d.count(30); p > 0; p-- {
			index := d.i32()
			code := d.i16()
			d.skip(24) // base offset, log append time, log start offset
			if d.err == nil && code != 0 {
				return fmt.Errorf("%s-%d: error code %d", name, index, code)
			}
		}
	}
	return d.err
}

// produceTo sends `requests` frames to one leader (frames[i % len(frames)]), `window` in flight.
func produceTo(port int, frames [][]byte, requests, window int) error {
	conn, rd, err := dial(port)
	if err != nil {
		return err
	}
	defer conn.Close()
	slots := make(chan struct{}, window)
	for i := 0; i < window; i++ {
		slots <- struct{}{}
	}
	readErr := make(chan error, 1)
	failed := make(chan struct{})
	go func() {
		for got := 0; got < requests; got++ {
			resp, err := rd.next()
			if err == nil {
				err = produceErrors(resp)
			}
			if err != nil {
				readErr <- err
				close(failed)
				return
			}
			slots <- struct{}{}
		}
		readErr <- nil
	}()
	for sent := 0; sent < requests; {
		select {
		case <-slots:
		case <-failed:
			return <-readErr
		}
		n := 1
	more:
		for sent+n < requests {
			select {
			case <-slots:
				n++
			default:
				break more
			}
		}
		bufs := make(net.Buffers, n)
		for i := range bufs {
			bufs[i] = frames[(sent+i)%len(frames)]
		}
		if _, err := bufs.WriteTo(conn); err != nil {
			conn.Close()
			if rerr := <-readErr; rerr != nil {
				return rerr
			}
			return err
		}
		sent += n
	}
	return <-readErr
}

func produce(topic string, leaders []leader, partitions, records, recordBytes int, acks int16, batchRecords, window int) (time.Duration, error) {
	if batchRecords < 1 || window < 1 || partitions < 1 {
		return 0, errors.New("-batch-records, -window and -partitions must be at least 1")
	}
	requests := (records + batchRecords - 1) / batchRecords
	value := make([]byte, recordBytes)
	for i := range value {
		value[i] = 'x'
	}
	batch := recordBatch(batchRecords, value)
	type job struct {
		port     int
		frames   [][]byte
		requests int
	}
	var jobs []job
	for _, l := range leaders {
		j := job{port: l.port}
		for _, p := range l.parts {
			if int(p) < requests {
				j.requests += (requests-1-int(p))/partitions + 1
			}
			j.frames = append(j.frames, produceV7(topic, p, acks, batch))
		}
		jobs = append(jobs, j)
	}
	t0 := time.Now()
	errs := make(chan error, len(jobs))
	for _, j := range jobs {
		go func(j job) { errs <- produceTo(j.port, j.frames, j.requests, window) }(j)
	}
	var first error
	for range jobs {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return time.Since(t0), first
}

// --- consume

// fetched walks a Fetch v11 response: per partition (by index into parts) the next offset after
// the last whole batch, and the records in those batches.
func fetched(resp []byte, parts []int32, offsets []int64) (int64, error) {
	d := dec{b: resp, off: 4}
	d.skip(4) // throttle time
	if code := d.i16(); code != 0 {
		return 0, fmt.Errorf("fetch: error code %d", code)
	}
	d.skip(4) // session id
	var got int64
	for t := d.count(6); t > 0; t-- {
		name := d.str()
		for p := d.count(42); p > 0; p-- {
			index := d.i32()
			code := d.i16()
			d.skip(24) // high watermark, last stable offset, log start offset
			if aborted := d.i32(); aborted > 0 {
				d.skip(16 * int(aborted))
			}
			d.skip(4) // preferred read replica
			size := int(d.i32())
			if d.err != nil {
				return 0, d.err
			}
			if code != 0 {
				return 0, fmt.Errorf("fetch %s-%d: error code %d", name, index, code)
			}
			if size <= 0 {
				continue
			}
			if !d.need(size) {
				return 0, d.err
			}
			records := d.b[d.off : d.off+size]
			d.off += size
			slot := -1
			for i, q := range parts {
				if q == index {
					slot = i
				}
			}
			if slot < 0 {
				return 0, fmt.Errorf("fetch: partition %d not asked for", index)
			}
			// Whole batches: base offset (8), length (4), … last offset delta at 23, record count at 57.
			for len(records) >= 61 {
				length := int(int32(binary.BigEndian.Uint32(records[8:12])))
				if length < 49 || 12+length > len(records) {
					break
				}
				base := int64(binary.BigEndian.Uint64(records[0:8]))
				offsets[slot] = base + int64(int32(binary.BigEndian.Uint32(records[23:27]))) + 1
				got += int64(int32(binary.BigEndian.Uint32(records[57:61])))
				records = records[12+length:]
			}
		}
	}
	return got, d.err
}

func consume(topic string, leaders []leader, records int64, atLeast bool) (time.Duration, error) {
	var received atomic.Int64
	var endMu sync.Mutex
	var end time.Time
	conns := make([]net.Conn, len(leaders))
	readers := make([]*reader, len(leaders))
	for i, l := range leaders {
		c, r, err := dial(l.port)
		if err != nil {
			return 0, err
		}
		defer c.Close()
		conns[i], readers[i] = c, r
	}
	t0 := time.Now()
	errs := make(chan error, len(leaders))
	for i, l := range leaders {
		go func(conn net.Conn, rd *reader, parts []int32) {
			offsets := make([]int64, len(parts))
			lastProgress := time.Now()
			for received.Load() < records {
				if _, err := conn.Write(fetchV11(topic, parts, offsets)); err != nil {
					errs <- err
					return
				}
				resp, err := rd.next()
				if err != nil {
					errs <- err
					return
				}
				got, err := fetched(resp, parts, offsets)
				if err != nil {
					errs <- err
					return
				}
				now := time.Now()
				if got > 0 {
					lastProgress = now
					if received.Add(got) >= records {
						endMu.Lock()
						if end.IsZero() {
							end = now
						}
						endMu.Unlock()
					}
				} else if now.Sub(lastProgress) > stallTimeout {
					errs <- fmt.Errorf("fetch %s: %d of %d records, none for %s", topic, received.Load(), records, stallTimeout)
					return
				}
			}
			errs <- nil
		}(conns[i], readers[i], l.parts)
	}
	var first error
	for range leaders {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		return 0, first
	}
	if n := received.Load(); n != records && !atLeast {
		return 0, fmt.Errorf("fetch %s: %d records, expected %d", topic, n, records)
	}
	return end.Sub(t0), nil
}

func main() {
	if len(os.Args) < 2 || (os.Args[1] != "produce" && os.Args[1] != "consume") {
		fmt.Fprintln(os.Stderr, "usage: kload produce|consume -topic T -leaders PORT:P,P/… -records N …")
		os.Exit(2)
	}
	mode := os.Args[1]
	fs := flag.NewFlagSet(mode, flag.ExitOnError)
	topic := fs.String("topic", "", "topic")
	leadersArg := fs.String("leaders", "", "PORT:P,P,…/PORT:P,… — each leader's port and partitions")
	records := fs.Int("records", 0, "records to produce or to consume")
	partitions := fs.Int("partitions", 1, "produce: the topic's partitions (request i goes to partition i % partitions)")
	recordBytes := fs.Int("record-bytes", 100, "produce: value bytes per record")
	acks := fs.Int("acks", 1, "produce: 1, or -1 for all")
	batchRecords := fs.Int("batch-records", 100, "produce: records per batch (one batch per request)")
	window := fs.Int("window", 8, "produce: requests in flight per connection")
	atLeast := fs.Bool("at-least", false, "consume: more records than -records is not an error")
	_ = fs.Parse(os.Args[2:])
	leaders, err := parseLeaders(*leadersArg)
	if err == nil && (*topic == "" || *records < 1) {
		err = errors.New("-topic and -records are required")
	}
	var took time.Duration
	if err == nil {
		if mode == "produce" {
			took, err = produce(*topic, leaders, *partitions, *records, *recordBytes, int16(*acks), *batchRecords, *window)
		} else {
			took, err = consume(*topic, leaders, int64(*records), *atLeast)
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "kload %s: %v\n", mode, err)
		os.Exit(1)
	}
	fmt.Printf("{\"secs\":%.6f,\"records\":%d}\n", took.Seconds(), *records)
}
