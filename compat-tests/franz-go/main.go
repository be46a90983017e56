// franz-go (kgo + kadm, versions pinned in go.mod) against kbroker.
//
//	go run . BOOTSTRAP [feature...]
//
// Each feature runs with a deadline and appends "feature<TAB>pass|fail<TAB>seconds<TAB>detail" to
// $COMPAT_RESULTS.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

const partitions = 3 // kbroker started with num.partitions=3 for auto-created topics

var (
	bootstrap string
	prefix    string
	version   = "?"
	produced  []*kgo.Record
)

func check(ok bool, format string, args ...any) {
	if !ok {
		panic(fmt.Errorf(format, args...))
	}
}

func must(err error, what string) {
	if err != nil {
		panic(fmt.Errorf("%s: %w", what, err))
	}
}

func client(opts ...kgo.Opt) *kgo.Client {
	base := []kgo.Opt{
		kgo.SeedBrokers(bootstrap),
		kgo.AllowAutoTopicCreation(),
		kgo.RequestTimeoutOverhead(10 * time.Second),
		kgo.RetryTimeout(30 * time.Second),
		kgo.FetchMaxWait(300 * time.Millisecond),
	}
	cl, err := kgo.NewClient(append(base, opts...)...)
	must(err, "NewClient")
	return cl
}

func ctx(d time.Duration) context.Context {
	c, cancel := context.WithTimeout(context.Background(), d)
	time.AfterFunc(d, cancel)
	return c
}

func records(topic string, n int, tag string) []*kgo.Record {
	base := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	out := make([]*kgo.Record, n)
	for i := range out {
		r := &kgo.Record{
			Topic:     topic,
			Value:     []byte(fmt.Sprintf("%s-value-%d-%s", tag, i, strings.Repeat("x", i%50))),
			Headers:   []kgo.RecordHeader{{Key: "h", Value: []byte(fmt.Sprintf("hv-%d", i))}},
			Timestamp: base.Add(time.Duration(i) * time.Millisecond),
		}
		if i%17 != 3 {
			r.Key = []byte(fmt.Sprintf("key-%d", i%7))
		}
		out[i] = r
	}
	return out
}

func produce(cl *kgo.Client, recs []*kgo.Record) {
	res := cl.ProduceSync(ctx(60*time.Second), recs...)
	must(res.FirstErr(), "ProduceSync")
}

// readAll consumes the topic's partitions from the start, without a group.
func readAll(topic string, n int, opts ...kgo.Opt) []*kgo.Record {
	cl := client(append([]kgo.Opt{kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {
		0: kgo.NewOffset().AtStart(), 1: kgo.NewOffset().AtStart(), 2: kgo.NewOffset().AtStart(),
	}})}, opts...)...)
	defer cl.Close()
	var got []*kgo.Record
	deadline := time.Now().Add(30 * time.Second)
	for len(got) < n && time.Now().Before(deadline) {
		fs := cl.PollFetches(ctx(time.Second))
		for _, e := range fs.Errors() {
			if !errors.Is(e.Err, context.DeadlineExceeded) {
				panic(fmt.Errorf("fetch %s/%d: %w", e.Topic, e.Partition, e.Err))
			}
		}
		got = append(got, fs.Records()...)
	}
	return got
}

func compare(sent, got []*kgo.Record) {
	check(len(got) == len(sent), "consumed %d records, produced %d", len(got), len(sent))
	type pos struct {
		p int32
		o int64
	}
	byPos := map[pos]*kgo.Record{}
	for _, r := range sent {
		byPos[pos{r.Partition, r.Offset}] = r
	}
	last := map[int32]int64{}
	for _, r := range got {
		s := byPos[pos{r.Partition, r.Offset}]
		where := fmt.Sprintf("%d@%d", r.Partition, r.Offset)
		check(s != nil, "unexpected record at %s", where)
		check(string(s.Key) == string(r.Key) && (s.Key == nil) == (r.Key == nil), "key differs at %s", where)
		check(string(s.Value) == string(r.Value), "value differs at %s", where)
		check(s.Timestamp.Equal(r.Timestamp), "timestamp differs at %s: %v vs %v", where, r.Timestamp, s.Timestamp)
		check(len(r.Headers) == 1 && string(r.Headers[0].Value) == string(s.Headers[0].Value), "header differs at %s", where)
		if prev, ok := last[r.Partition]; ok {
			check(prev+1 == r.Offset, "out of order in partition %d", r.Partition)
		}
		last[r.Partition] = r.Offset
	}
}

func admin() (*kadm.Client, func()) {
	cl := client()
	return kadm.NewClient(cl), cl.Close
}

func fMetadata() {
	topic := prefix + "-meta"
	cl := client(kgo.DisableIdempotentWrite())
	produce(cl, []*kgo.Record{{Topic: topic, Value: []byte("v")}})
	cl.Close()
	adm, done := admin()
	defer done()
	md, err := adm.Metadata(ctx(30*time.Second), topic)
	must(err, "Metadata")
	check(len(md.Brokers) == 1 && md.Controller >= 0, "brokers %v controller %d", md.Brokers, md.Controller)
	check(len(md.Topics[topic].Partitions) == partitions, "%d partitions", len(md.Topics[topic].Partitions))
	topics, err := adm.ListTopics(ctx(30 * time.Second))
	must(err, "ListTopics")
	check(topics.Has(topic), "ListTopics lacks %s", topic)
}

func fProduce() {
	topic := prefix + "-plain"
	cl := client(kgo.DisableIdempotentWrite(), kgo.RequiredAcks(kgo.AllISRAcks()))
	recs := records(topic, 600, "plain")
	produce(cl, recs)
	cl.Close()
	produced = recs
	compare(recs, readAll(topic, len(recs)))
}

func fConsumeAssign() {
	check(produced != nil, "produce did not run")
	topic := prefix + "-plain"
	// Small fetches: many round trips.
	compare(produced, readAll(topic, len(produced), kgo.FetchMaxBytes(2000), kgo.FetchMaxPartitionBytes(1000)))
	var p0 []*kgo.Record
	for _, r := range produced {
		if r.Partition == 0 {
			p0 = append(p0, r)
		}
	}
	mid := int64(len(p0) / 2)
	cl := client(kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().At(mid)}}))
	defer cl.Close()
	var got []*kgo.Record
	deadline := time.Now().Add(20 * time.Second)
	for int64(len(got)) < int64(len(p0))-mid && time.Now().Before(deadline) {
		got = append(got, cl.PollFetches(ctx(time.Second)).Records()...)
	}
	check(int64(len(got)) == int64(len(p0))-mid, "after offset %d got %d of %d", mid, len(got), int64(len(p0))-mid)
	check(got[0].Offset == mid, "first offset %d, want %d", got[0].Offset, mid)
}

func fListOffsets() {
	check(produced != nil, "produce did not run")
	topic := prefix + "-plain"
	adm, done := admin()
	defer done()
	start, err := adm.ListStartOffsets(ctx(30*time.Second), topic)
	must(err, "ListStartOffsets")
	end, err := adm.ListEndOffsets(ctx(30*time.Second), topic)
	must(err, "ListEndOffsets")
	count := map[int32]int64{}
	for _, r := range produced {
		count[r.Partition]++
	}
	for p := int32(0); p < partitions; p++ {
		s, _ := start.Lookup(topic, p)
		e, _ := end.Lookup(topic, p)
		check(s.Err == nil && s.Offset == 0, "start of %d: %+v", p, s)
		check(e.Err == nil && e.Offset == count[p], "end of %d: %+v, produced %d", p, e, count[p])
	}
	probe := produced[len(produced)/2]
	after, err := adm.ListOffsetsAfterMilli(ctx(30*time.Second), probe.Timestamp.UnixMilli(), topic)
	must(err, "ListOffsetsAfterMilli")
	o, _ := after.Lookup(topic, probe.Partition)
	want := int64(-1)
	for _, r := range produced {
		if r.Partition == probe.Partition && !r.Timestamp.Before(probe.Timestamp) && (want < 0 || r.Offset < want) {
			want = r.Offset
		}
	}
	check(o.Offset == want, "offset after %v: %d, want %d", probe.Timestamp, o.Offset, want)
}

func fCompression() {
	for _, c := range []struct {
		name  string
		codec kgo.CompressionCodec
	}{{"gzip", kgo.GzipCompression()}, {"snappy", kgo.SnappyCompression()}, {"lz4", kgo.Lz4Compression()}, {"zstd", kgo.ZstdCompression()}} {
		topic := prefix + "-codec-" + c.name
		cl := client(kgo.DisableIdempotentWrite(), kgo.ProducerBatchCompression(c.codec), kgo.ProducerLinger(20*time.Millisecond))
		recs := records(topic, 300, c.name)
		produce(cl, recs)
		cl.Close()
		func() {
			defer func() {
				if r := recover(); r != nil {
					panic(fmt.Errorf("%s: %v", c.name, r))
				}
			}()
			compare(recs, readAll(topic, len(recs)))
		}()
	}
}

func fProduceIdempotent() {
	topic := prefix + "-idem"
	cl := client() // franz-go's default: idempotent, acks=all
	recs := records(topic, 500, "idem")
	produce(cl, recs)
	cl.Close()
	compare(recs, readAll(topic, len(recs)))
}

func fConsumerGroup() {
	topic := prefix + "-group"
	group := prefix + "-g"
	cl := client(kgo.DisableIdempotentWrite())
	recs := records(topic, 300, "group")
	produce(cl, recs)
	cl.Close()
	var mu sync.Mutex
	seen := map[string]bool{}
	members := make([]*kgo.Client, 3)
	for i := range members {
		members[i] = client(kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic), kgo.DisableAutoCommit(),
			kgo.SessionTimeout(10*time.Second), kgo.HeartbeatInterval(time.Second),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for _, m := range members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				fs := m.PollFetches(ctx(500 * time.Millisecond))
				mu.Lock()
				fs.EachRecord(func(r *kgo.Record) { seen[fmt.Sprintf("%d@%d", r.Partition, r.Offset)] = true })
				mu.Unlock()
				if err := m.CommitUncommittedOffsets(ctx(10 * time.Second)); err != nil && !errors.Is(err, context.DeadlineExceeded) {
					mu.Lock()
					seen["commit-error: "+err.Error()] = true
					mu.Unlock()
				}
			}
		}()
	}
	adm, done := admin()
	defer done()
	deadline := time.Now().Add(60 * time.Second)
	var spread bool
	for time.Now().Before(deadline) {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		if d, err := adm.DescribeGroups(ctx(10*time.Second), group); err == nil {
			g := d[group]
			spread = len(g.Members) == 3
			for _, mem := range g.Members {
				a, _ := mem.Assigned.AsConsumer()
				if a == nil || len(a.Topics) != 1 || len(a.Topics[0].Partitions) != 1 {
					spread = false
				}
			}
		}
		if n >= len(recs) && spread {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	for _, m := range members {
		must(m.CommitUncommittedOffsets(ctx(10*time.Second)), "final commit")
		m.Close()
	}
	for k := range seen {
		check(!strings.HasPrefix(k, "commit-error"), "%s", k)
	}
	check(len(seen) == len(recs), "group read %d of %d", len(seen), len(recs))
	check(spread, "assignment not one partition per member")
	// More records; a restarted member reads only those.
	cl = client(kgo.DisableIdempotentWrite())
	more := records(topic, 30, "group-more")
	produce(cl, more)
	cl.Close()
	c := client(kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	defer c.Close()
	var got []*kgo.Record
	deadline = time.Now().Add(30 * time.Second)
	for len(got) < len(more) && time.Now().Before(deadline) {
		got = append(got, c.PollFetches(ctx(time.Second)).Records()...)
	}
	for _, r := range got {
		check(strings.HasPrefix(string(r.Value), "group-more-"), "after restart read an old record %s", r.Value)
	}
	check(len(got) == len(more), "after restart read %d, want %d", len(got), len(more))
}

func fManualCommit() {
	topic := prefix + "-commit"
	group := prefix + "-manual"
	cl := client(kgo.DisableIdempotentWrite())
	recs := records(topic, 30, "commit")
	for _, r := range recs {
		r.Partition = 0
	}
	cl.Close()
	cl = client(kgo.DisableIdempotentWrite(), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	produce(cl, recs)
	cl.Close()
	c := client(kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic), kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var got []*kgo.Record
	deadline := time.Now().Add(30 * time.Second)
	for len(got) < 5 && time.Now().Before(deadline) {
		got = append(got, c.PollFetches(ctx(time.Second)).Records()...)
	}
	check(len(got) >= 5, "read only %d", len(got))
	must(c.CommitRecords(ctx(10*time.Second), got[4]), "CommitRecords")
	c.Close()
	adm, done := admin()
	defer done()
	offs, err := adm.FetchOffsets(ctx(10*time.Second), group)
	must(err, "FetchOffsets")
	o, ok := offs.Lookup(topic, 0)
	check(ok && o.At == 5, "committed offset %+v, want 5", o)
	c = client(kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	defer c.Close()
	var first []*kgo.Record
	deadline = time.Now().Add(30 * time.Second)
	for len(first) == 0 && time.Now().Before(deadline) {
		first = c.PollFetches(ctx(time.Second)).Records()
	}
	check(len(first) > 0 && first[0].Offset == 5, "did not resume at offset 5")
}

func fAdminTopics() {
	topic := prefix + "-admin"
	adm, done := admin()
	defer done()
	c := ctx(30 * time.Second)
	rs, err := adm.CreateTopics(c, 2, 1, map[string]*string{"retention.ms": kadm.StringPtr("3600000")}, topic)
	must(err, "CreateTopics")
	must(rs[topic].Err, "CreateTopics "+topic)
	rs, err = adm.CreateTopics(c, 1, 1, nil, topic)
	must(err, "CreateTopics again")
	check(errors.Is(rs[topic].Err, kerr.TopicAlreadyExists), "creating an existing topic: %v", rs[topic].Err)
	td, err := adm.ListTopics(c, topic)
	must(err, "ListTopics")
	check(len(td[topic].Partitions) == 2, "%d partitions", len(td[topic].Partitions))
	cp, err := adm.UpdatePartitions(c, 4, topic)
	must(err, "UpdatePartitions")
	must(cp[topic].Err, "UpdatePartitions "+topic)
	td, err = adm.ListTopics(c, topic)
	must(err, "ListTopics")
	check(len(td[topic].Partitions) == 4, "after UpdatePartitions: %d partitions", len(td[topic].Partitions))
	dr, err := adm.DeleteTopics(c, topic)
	must(err, "DeleteTopics")
	must(dr[topic].Err, "DeleteTopics "+topic)
	for deadline := time.Now().Add(15 * time.Second); ; {
		all, err := adm.ListTopics(c)
		must(err, "ListTopics")
		if !all.Has(topic) {
			break
		}
		check(time.Now().Before(deadline), "deleted topic still listed")
		time.Sleep(200 * time.Millisecond)
	}
}

func fAdminConfigs() {
	topic := prefix + "-cfg"
	cl := client(kgo.DisableIdempotentWrite())
	produce(cl, []*kgo.Record{{Topic: topic, Value: []byte("v")}})
	cl.Close()
	adm, done := admin()
	defer done()
	c := ctx(30 * time.Second)
	get := func(name string) string {
		rc, err := adm.DescribeTopicConfigs(c, topic)
		must(err, "DescribeTopicConfigs")
		r, err := rc.On(topic, nil)
		must(err, "DescribeTopicConfigs "+topic)
		for _, cfg := range r.Configs {
			if cfg.Key == name {
				return cfg.MaybeValue()
			}
		}
		return "<absent>"
	}
	check(get("cleanup.policy") == "delete", "cleanup.policy: %s", get("cleanup.policy"))
	ar, err := adm.AlterTopicConfigs(c, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "retention.ms", Value: kadm.StringPtr("7200000")}}, topic)
	must(err, "AlterTopicConfigs")
	for _, r := range ar {
		must(r.Err, "AlterTopicConfigs "+r.Name)
	}
	check(get("retention.ms") == "7200000", "retention.ms after alter: %s", get("retention.ms"))
}

func fAdminGroups() {
	topic := prefix + "-ag"
	group := prefix + "-ag"
	cl := client(kgo.DisableIdempotentWrite())
	produce(cl, records(topic, 30, "ag"))
	cl.Close()
	c := client(kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic), kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		if len(c.PollFetches(ctx(time.Second)).Records()) > 0 {
			break
		}
	}
	adm, done := admin()
	defer done()
	x := ctx(30 * time.Second)
	lg, err := adm.ListGroups(x)
	must(err, "ListGroups")
	check(slices.Contains(lg.Groups(), group), "ListGroups lacks %s: %v", group, lg.Groups())
	dg, err := adm.DescribeGroups(x, group)
	must(err, "DescribeGroups")
	check(len(dg[group].Members) == 1 && dg[group].State == "Stable", "DescribeGroups: %s with %d members", dg[group].State, len(dg[group].Members))
	c.Close() // leaves the group
	offs := kadm.Offsets{}
	offs.Add(kadm.Offset{Topic: topic, Partition: 0, At: 3, LeaderEpoch: -1})
	offs.Add(kadm.Offset{Topic: topic, Partition: 1, At: 2, LeaderEpoch: -1})
	cr, err := adm.CommitOffsets(x, group, offs)
	must(err, "CommitOffsets")
	must(cr.Error(), "CommitOffsets result")
	fo, err := adm.FetchOffsets(x, group)
	must(err, "FetchOffsets")
	o, _ := fo.Lookup(topic, 0)
	check(o.At == 3, "FetchOffsets: %+v", o)
	dor, err := adm.DeleteOffsets(x, group, kadm.TopicsSet{topic: {1: {}}})
	must(err, "DeleteOffsets")
	must(dor.Error(), "DeleteOffsets result")
	fo, err = adm.FetchOffsets(x, group)
	must(err, "FetchOffsets")
	_, has1 := fo.Lookup(topic, 1)
	check(!has1, "offset of partition 1 not deleted")
	dgr, err := adm.DeleteGroups(x, group)
	must(err, "DeleteGroups")
	must(dgr[group].Err, "DeleteGroups "+group)
	lg, err = adm.ListGroups(x)
	must(err, "ListGroups")
	check(!slices.Contains(lg.Groups(), group), "deleted group still listed")
}

func fTransactions() {
	topic := prefix + "-txn"
	cl := client(kgo.TransactionalID(prefix+"-tx"), kgo.TransactionTimeout(30*time.Second))
	for _, t := range []struct {
		tag    string
		commit bool
	}{{"committed-1", true}, {"aborted", false}, {"committed-2", true}} {
		must(cl.BeginTransaction(), "BeginTransaction")
		for i := 0; i < 30; i++ {
			cl.Produce(ctx(30*time.Second), &kgo.Record{Topic: topic, Key: []byte(fmt.Sprintf("k%d", i)), Value: []byte(fmt.Sprintf("%s-%d", t.tag, i))}, nil)
		}
		must(cl.Flush(ctx(30*time.Second)), "Flush")
		must(cl.EndTransaction(ctx(30*time.Second), kgo.TransactionEndTry(t.commit)), "EndTransaction")
	}
	cl.Close()
	got := readAll(topic, 60, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	check(len(got) == 60, "read_committed read %d, want 60", len(got))
	for _, r := range got {
		check(strings.HasPrefix(string(r.Value), "committed-"), "read_committed saw %s", r.Value)
	}
	all := readAll(topic, 90)
	check(len(all) == 90, "read_uncommitted read %d, want 90", len(all))

	// Consume-transform-produce with a GroupTransactSession: offsets committed in the transaction.
	out := prefix + "-txn-out"
	sess, err := kgo.NewGroupTransactSession(kgo.SeedBrokers(bootstrap), kgo.TransactionalID(prefix+"-tx2"),
		kgo.ConsumerGroup(prefix+"-txg"), kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.AllowAutoTopicCreation(), kgo.FetchMaxWait(300*time.Millisecond))
	must(err, "NewGroupTransactSession")
	defer sess.Close()
	n := 0
	for deadline := time.Now().Add(40 * time.Second); n < 60 && time.Now().Before(deadline); {
		fs := sess.PollFetches(ctx(time.Second))
		recs := fs.Records()
		if len(recs) == 0 {
			continue
		}
		must(sess.Begin(), "session Begin")
		for _, r := range recs {
			sess.Produce(ctx(30*time.Second), &kgo.Record{Topic: out, Key: r.Key, Value: r.Value}, nil)
		}
		committed, err := sess.End(ctx(30*time.Second), kgo.TryCommit)
		must(err, "session End")
		if committed {
			n += len(recs)
		}
	}
	check(n == 60, "transformed %d of 60", n)
	outRecs := readAll(out, 60, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	check(len(outRecs) == 60, "output has %d of 60", len(outRecs))
}

func fDeleteRecords() {
	topic := prefix + "-del"
	cl := client(kgo.DisableIdempotentWrite(), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	recs := records(topic, 30, "del")
	produce(cl, recs) // all to partition 0
	cl.Close()
	adm, done := admin()
	defer done()
	offs := kadm.Offsets{}
	offs.Add(kadm.Offset{Topic: topic, Partition: 0, At: 4})
	dr, err := adm.DeleteRecords(ctx(30*time.Second), offs)
	must(err, "DeleteRecords")
	must(dr.Error(), "DeleteRecords result")
	start, err := adm.ListStartOffsets(ctx(30*time.Second), topic)
	must(err, "ListStartOffsets")
	s, _ := start.Lookup(topic, 0)
	check(s.Offset == 4, "start offset after DeleteRecords: %d", s.Offset)
}

type feature struct {
	name string
	fn   func()
}

func main() {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/twmb/franz-go" {
				version = d.Version
			}
		}
	}
	bootstrap = os.Args[1]
	only := os.Args[2:]
	prefix = fmt.Sprintf("fgo-%d", time.Now().UnixMilli()%100000)
	features := []feature{
		{"metadata", fMetadata}, {"produce", fProduce}, {"consume-assign", fConsumeAssign},
		{"list-offsets", fListOffsets}, {"compression", fCompression}, {"produce-idempotent", fProduceIdempotent},
		{"admin-topics", fAdminTopics}, {"admin-configs", fAdminConfigs}, {"manual-commit", fManualCommit},
		{"consumer-group", fConsumerGroup}, {"admin-groups", fAdminGroups}, {"transactions", fTransactions},
		{"delete-records", fDeleteRecords},
	}
	if os.Getenv("FGO_CA") != "" { // the secure broker (secure.go)
		features = []feature{{"sasl-ssl-scram-sha-512", fSaslSslScram}, {"mtls-produce-consume", fMtls}}
	}
	fmt.Printf("franz-go %s -> %s\n", version, bootstrap)
	for _, f := range features {
		if len(only) > 0 && !slices.Contains(only, f.name) {
			continue
		}
		t0 := time.Now()
		done := make(chan error, 1)
		go func() {
			defer func() {
				if r := recover(); r != nil {
					fmt.Printf("%s: %v\n%s\n", f.name, r, debug.Stack())
					done <- fmt.Errorf("%v", r)
				}
			}()
			f.fn()
			done <- nil
		}()
		var err error
		select {
		case err = <-done:
		case <-time.After(90 * time.Second):
			err = errors.New("timed out after 90 s")
		}
		result, detail := "pass", "franz-go "+version
		if err != nil {
			result, detail = "fail", detail+": "+err.Error()
		}
		record(f.name, result, time.Since(t0), detail)
	}
	os.Exit(0)
}

func record(feature, result string, d time.Duration, detail string) {
	detail = strings.NewReplacer("\t", " ", "\n", " | ").Replace(detail)
	if len(detail) > 600 {
		detail = detail[:600]
	}
	line := fmt.Sprintf("%s\t%s\t%d\t%s", feature, result, int(d.Seconds()+0.5), detail)
	fmt.Println("RESULT " + line)
	if path := os.Getenv("COMPAT_RESULTS"); path != "" {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err == nil {
			fmt.Fprintln(f, line)
			f.Close()
		}
	}
}
