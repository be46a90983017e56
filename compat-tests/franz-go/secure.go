package main

// Security features (issue 15): franz-go over SASL_SSL with SCRAM-SHA-512 and over mTLS, against a
// second kbroker that run.sh starts with both listeners and the dev CA's certificates:
//
//	FGO_CA         the dev CA (trusted by the clients)
//	FGO_MTLS       the SSL listener (ssl.client.auth=required)
//	FGO_CERT/KEY   a client certificate signed by the CA
//
// bootstrap is the SASL_SSL listener, which also accepts PLAIN for the user admin (the one who
// creates the SCRAM credential with AlterUserScramCredentials).

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

const secureRecords = 300

func tlsConfig(withCert bool) *tls.Config {
	ca, err := os.ReadFile(os.Getenv("FGO_CA"))
	must(err, "read FGO_CA")
	pool := x509.NewCertPool()
	check(pool.AppendCertsFromPEM(ca), "no certificate in %s", os.Getenv("FGO_CA"))
	// No InsecureSkipVerify: the broker's certificate must chain to the dev CA and name 127.0.0.1.
	c := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if withCert {
		cert, err := tls.LoadX509KeyPair(os.Getenv("FGO_CERT"), os.Getenv("FGO_KEY"))
		must(err, "load the client certificate")
		c.Certificates = []tls.Certificate{cert}
	}
	return c
}

func scramOpts(user, pass string) []kgo.Opt {
	return []kgo.Opt{
		kgo.SeedBrokers(bootstrap),
		kgo.DialTLSConfig(tlsConfig(false)),
		kgo.SASL(scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()),
	}
}

func mtlsOpts(withCert bool) []kgo.Opt {
	return []kgo.Opt{kgo.SeedBrokers(os.Getenv("FGO_MTLS")), kgo.DialTLSConfig(tlsConfig(withCert))}
}

// roundTrip produces secureRecords records on a new 3-partition topic and reads them back, each
// with its own client built from opts.
func roundTrip(topic string, opts []kgo.Opt) {
	pcl := client(opts...)
	defer pcl.Close()
	recs := records(topic, secureRecords, "sec")
	produce(pcl, recs)
	got := readAll(topic, len(recs), opts...)
	compare(recs, got)
}

func fSaslSslScram() {
	// The admin (PLAIN over the same SASL_SSL listener) creates alice's SCRAM-SHA-512 credential.
	acl := client(kgo.SeedBrokers(bootstrap), kgo.DialTLSConfig(tlsConfig(false)),
		kgo.SASL(plain.Auth{User: "admin", Pass: "admin-secret"}.AsMechanism()))
	defer acl.Close()
	adm := kadm.NewClient(acl)
	altered, err := adm.AlterUserSCRAMs(ctx(30*time.Second), nil, []kadm.UpsertSCRAM{
		{User: "alice", Mechanism: kadm.ScramSha512, Iterations: 8192, Password: "alice-secret"},
	})
	must(err, "AlterUserSCRAMs")
	a := altered["alice"]
	check(a.Err == nil, "AlterUserSCRAMs alice: %v %s", a.Err, a.ErrMessage)
	described, err := adm.DescribeUserSCRAMs(ctx(30*time.Second), "alice")
	must(err, "DescribeUserSCRAMs")
	d := described["alice"]
	check(d.Err == nil && len(d.CredInfos) == 1 && d.CredInfos[0].Mechanism == kadm.ScramSha512 &&
		d.CredInfos[0].Iterations == 8192, "DescribeUserSCRAMs alice: %+v", d)
	topic := prefix + "-scram"
	created, err := adm.CreateTopics(ctx(30*time.Second), partitions, 1, nil, topic)
	must(err, "CreateTopics")
	must(created.Error(), "CreateTopics "+topic)

	// alice produces and consumes over SASL_SSL with SCRAM-SHA-512.
	roundTrip(topic, scramOpts("alice", "alice-secret"))

	// A wrong password is refused with SASL_AUTHENTICATION_FAILED.
	bad := client(scramOpts("alice", "not-her-password")...)
	defer bad.Close()
	err = bad.Ping(ctx(20 * time.Second))
	check(err != nil, "a wrong SCRAM password was accepted")
	check(errors.Is(err, kerr.SaslAuthenticationFailed), "wrong password: %v, want SASL_AUTHENTICATION_FAILED", err)
}

func fMtls() {
	topic := prefix + "-mtls"
	acl := client(mtlsOpts(true)...)
	defer acl.Close()
	created, err := kadm.NewClient(acl).CreateTopics(ctx(30*time.Second), partitions, 1, nil, topic)
	must(err, "CreateTopics")
	must(created.Error(), "CreateTopics "+topic)
	roundTrip(topic, mtlsOpts(true))

	// Without a client certificate the TLS handshake fails (ssl.client.auth=required).
	nocert := client(append(mtlsOpts(false), kgo.RetryTimeout(5*time.Second))...)
	defer nocert.Close()
	err = nocert.Ping(ctx(15 * time.Second))
	check(err != nil, "a client without a certificate was accepted")
	fmt.Printf("mtls without a certificate: %v\n", err)
	// TLS 1.3: the broker's certificate_required alert; TLS 1.2: a failed handshake.
	check(strings.Contains(err.Error(), "tls: certificate required") || strings.Contains(err.Error(), "tls: handshake failure"),
		"no TLS alert for the missing certificate: %v", err)
}
