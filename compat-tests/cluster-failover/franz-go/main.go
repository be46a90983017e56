// franz-go across a leader change of a 3-broker kbroker process.
//
// usage: cluster-failover-franz-go BOOTSTRAP TOPIC SECONDS
//
// Creates TOPIC (3 partitions, replication factor 3, min.insync.replicas=2), then for SECONDS
// sends numbered records "<partition>-<n>" with franz-go's default producer (idempotent,
// acks=all) while a consumer group reads them; run.sh kills the leader of partition 0 meanwhile
// and starts it again. Then: the group has consumed every acknowledged record, and a second group
// reading the topic from the beginning finds every acknowledged record exactly once, no record
// twice, and each partition's acknowledged records in the order they were sent. Prints one
// summary line; exit 0 when all holds.
package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

const partitions = 3

var (
	seeds []string
	topic string
)

type perPartition [partitions][]string

// consume reads from the beginning with a group member until stop() and want(got) hold.
func consume(group string, want func(*perPartition) bool, stop func() bool, deadline time.Duration, mu *sync.Mutex, got *perPartition) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.AutoCommitInterval(500*time.Millisecond))
	if err != nil {
		panic(err)
	}
	defer cl.Close()
	end := time.Now().Add(deadline)
	for time.Now().Before(end) {
		mu.Lock()
		ok := stop() && want(got)
		mu.Unlock()
		if ok {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		fetches := cl.PollFetches(ctx)
		cancel()
		mu.Lock()
		fetches.EachRecord(func(r *kgo.Record) { got[r.Partition] = append(got[r.Partition], string(r.Value)) })
		mu.Unlock()
	}
}

func main() {
	seeds = strings.Split(os.Args[1], ",")
	topic = os.Args[2]
	seconds, _ := strconv.ParseFloat(os.Args[3], 64)
	ctx := context.Background()

	adminClient, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		panic(err)
	}
	adm := kadm.NewClient(adminClient)
	isr := "2"
	res, err := adm.CreateTopic(ctx, partitions, 3, map[string]*string{"min.insync.replicas": &isr}, topic)
	if err == nil {
		err = res.Err
	}
	adminClient.Close()
	if err != nil {
		fmt.Println("create topic:", err)
		os.Exit(1)
	}

	var mu sync.Mutex
	var acked perPartition
	var failed []string
	var doneProducing atomic.Bool
	covers := func(got *perPartition) bool {
		seen := map[string]bool{}
		for _, l := range got {
			for _, v := range l {
				seen[v] = true
			}
		}
		for _, l := range acked {
			for _, v := range l {
				if !seen[v] {
					return false
				}
			}
		}
		return true
	}
	var groupGot perPartition
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		consume(topic+"-group", covers, doneProducing.Load, time.Duration(seconds*float64(time.Second))+120*time.Second, &mu, &groupGot)
	}()

	producer, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		panic(err)
	}
	n := 0
	end := time.Now().Add(time.Duration(seconds * float64(time.Second)))
	for time.Now().Before(end) {
		for i := 0; i < 10; i++ {
			part := int32(n % partitions)
			value := fmt.Sprintf("%d-%d", part, n/partitions)
			producer.Produce(ctx, &kgo.Record{Topic: topic, Partition: part, Value: []byte(value)}, func(r *kgo.Record, err error) {
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					acked[r.Partition] = append(acked[r.Partition], string(r.Value))
				} else {
					failed = append(failed, err.Error())
				}
			})
			n++
		}
		time.Sleep(20 * time.Millisecond)
	}
	flushCtx, cancel := context.WithTimeout(ctx, 120*time.Second)
	_ = producer.Flush(flushCtx)
	cancel()
	producer.Close()
	doneProducing.Store(true)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	total := 0
	for _, l := range acked {
		total += len(l)
	}
	var problems []string
	groupSeen := map[string]bool{}
	for _, l := range groupGot {
		for _, v := range l {
			groupSeen[v] = true
		}
	}
	missing := 0
	for _, l := range acked {
		for _, v := range l {
			if !groupSeen[v] {
				missing++
			}
		}
	}
	if missing > 0 {
		problems = append(problems, fmt.Sprintf("group: %d acknowledged never consumed", missing))
	}
	mu.Unlock()
	var check perPartition
	var checkMu sync.Mutex
	consume(topic+"-verify", func(got *perPartition) bool {
		s := 0
		for _, l := range got {
			s += len(l)
		}
		return s >= total
	}, func() bool { return true }, 60*time.Second, &checkMu, &check)
	mu.Lock()
	verifyRead := 0
	for part := 0; part < partitions; part++ {
		read := check[part]
		verifyRead += len(read)
		counts := map[string]int{}
		for _, v := range read {
			counts[v]++
		}
		twice := 0
		for _, c := range counts {
			if c > 1 {
				twice++
			}
		}
		lost := 0
		ackset := map[string]bool{}
		var expected []string
		for _, v := range acked[part] {
			ackset[v] = true
			if counts[v] == 0 {
				lost++
			} else {
				expected = append(expected, v)
			}
		}
		var first []string
		firstSeen := map[string]bool{}
		for _, v := range read {
			if ackset[v] && !firstSeen[v] {
				firstSeen[v] = true
				first = append(first, v)
			}
		}
		if lost > 0 {
			problems = append(problems, fmt.Sprintf("p%d: %d acknowledged missing", part, lost))
		}
		if twice > 0 {
			problems = append(problems, fmt.Sprintf("p%d: %d records twice", part, twice))
		}
		if strings.Join(first, ",") != strings.Join(expected, ",") {
			problems = append(problems, fmt.Sprintf("p%d: acknowledged records out of order", part))
		}
	}
	if len(failed) > 0 {
		problems = append(problems, fmt.Sprintf("%d failed sends %v", len(failed), failed[:min(3, len(failed))]))
	}
	summary := "OK"
	if len(problems) > 0 {
		summary = strings.Join(problems, "; ")
	}
	fmt.Printf("franz-go: sent %d, acknowledged %d, group consumed %d distinct, verify read %d; %s\n",
		n, total, len(groupSeen), verifyRead, summary)
	if len(problems) > 0 || total == 0 {
		os.Exit(1)
	}
}
