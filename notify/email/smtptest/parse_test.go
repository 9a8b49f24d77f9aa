package smtptest_test

import (
	"strings"
	"testing"

	"github.com/foyer-dev/foyer/notify/email/smtptest"
)

const multipartBase64 = "From: a@contoso.example\r\n" +
	"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/alternative; boundary=b1\r\n" +
	"\r\n" +
	"--b1\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"caf=C3=A9 =\r\n" +
	"ok\r\n" +
	"--b1\r\n" +
	"Content-Type: text/html; charset=utf-8\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"PHA+aGk8L3A+\r\n" +
	"--b1--\r\n"

func TestParse(t *testing.T) {
	t.Parallel()
	p, err := smtptest.Message{Data: []byte(multipartBase64)}.Parse()
	if err != nil {
		t.Fatal(err)
	}
	if p.Subject() != "Grüße" || p.Text != "café ok" || p.HTML != "<p>hi</p>" {
		t.Errorf("subject %q text %q html %q", p.Subject(), p.Text, p.HTML)
	}
	single, err := smtptest.Message{Data: []byte("Subject: x\r\n\r\nplain body")}.Parse()
	if err != nil || single.Text != "plain body" || single.HTML != "" {
		t.Errorf("single part: %+v %v", single, err)
	}
	if _, err := (smtptest.Message{Data: []byte("Content-Type: multipart/mixed; boundary=\"\r\n\r\n")}).Parse(); err == nil {
		t.Error("a broken content type parsed")
	}
}

func FuzzParse(f *testing.F) {
	f.Add(multipartBase64)
	f.Add("Subject: x\r\n\r\nbody")
	f.Fuzz(func(t *testing.T, data string) {
		p, err := smtptest.Message{Data: []byte(data)}.Parse()
		if err == nil && p == nil {
			t.Fatal("nil result without error")
		}
		if err == nil && !strings.Contains(data, ":") && len(p.Header) > 0 {
			t.Errorf("headers from data without a colon: %v", p.Header)
		}
	})
}
