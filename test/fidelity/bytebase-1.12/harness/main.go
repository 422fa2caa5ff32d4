// Command harness posts every case of cases.json with Bytebase 1.12.0's own webhook package
// (backend/plugin/webhook, built from Bytebase's source by ../regenerate.sh) to a local server,
// and writes what arrived: one file per provider, {case: {headers, body}}, in the cases' order.
// It also writes slugs.json: gosimple/slug's slug of each name in slugNames.
//
// Usage: harness <cases.json> <output folder>
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"github.com/bytebase/bytebase/backend/plugin/webhook"
	"github.com/gosimple/slug"
)

// The providers Bytebase 1.12 registers, and what each one's receiver must answer for Post to succeed.
var providers = []struct{ file, webhookType, answer string }{
	{"slack.json", "bb.plugin.webhook.slack", "ok"},
	{"discord.json", "bb.plugin.webhook.discord", `{"id":"1"}`},
	{"teams.json", "bb.plugin.webhook.teams", "1"},
	{"dingtalk.json", "bb.plugin.webhook.dingtalk", `{"errcode":0,"errmsg":"ok"}`},
	{"feishu.json", "bb.plugin.webhook.feishu", `{"code":0,"msg":"success"}`},
	{"wecom.json", "bb.plugin.webhook.wecom", `{"errcode":0,"errmsg":"ok"}`},
	{"custom.json", "bb.plugin.webhook.custom", `{"code":0,"message":""}`},
}

// Headers Go's HTTP client adds on its own; Bytebase's code sets only Content-Type.
var transportHeaders = map[string]string{"Content-Length": "", "Accept-Encoding": "gzip", "User-Agent": "Go-http-client/1.1"}

type request struct {
	headers map[string]string
	body    []byte
}

func main() {
	if len(os.Args) != 3 {
		fail(fmt.Errorf("usage: harness <cases.json> <output folder>"))
	}
	raw, err := os.ReadFile(os.Args[1])
	if err != nil {
		fail(err)
	}
	var in Input
	if err := json.Unmarshal(raw, &in); err != nil {
		fail(err)
	}

	var received []request
	answer := ""
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		headers := map[string]string{}
		for name, values := range r.Header {
			if added, ok := transportHeaders[name]; ok && (added == "" || values[0] == added) {
				continue
			}
			headers[name] = strings.Join(values, ", ")
		}
		received = append(received, request{headers, body})
		_, _ = io.WriteString(w, answer)
	}))
	defer server.Close()

	for _, p := range providers {
		answer = p.answer
		var out bytes.Buffer
		out.WriteString("{")
		for i, c := range in.Cases {
			ctx, err := contextOf(&in, c)
			if err != nil {
				fail(err)
			}
			ctx.URL = server.URL + "/" + p.file
			received = nil
			if err := webhook.Post(p.webhookType, ctx); err != nil {
				fail(fmt.Errorf("%s, %s: %w", p.webhookType, c.Name, err))
			}
			if len(received) != 1 {
				fail(fmt.Errorf("%s, %s: %d requests arrived", p.webhookType, c.Name, len(received)))
			}
			if i > 0 {
				out.WriteString(",")
			}
			writeCase(&out, c.Name, received[0])
		}
		out.WriteString("\n}\n")
		write(p.file, out.Bytes())
	}

	slugs := make([]map[string]string, 0, len(in.SlugNames))
	for _, name := range in.SlugNames {
		slugs = append(slugs, map[string]string{"name": name, "slug": slug.Make(name)})
	}
	text, _ := json.MarshalIndent(slugs, "", "  ")
	write("slugs.json", append(text, '\n'))
}

// writeCase writes `"name": {"headers": …, "body": …}` indented, the body as it arrived (its keys
// in Bytebase's order, its strings as Go escaped them).
func writeCase(out *bytes.Buffer, name string, r request) {
	key, _ := json.Marshal(name)
	headers, _ := json.MarshalIndent(r.headers, "    ", "  ")
	var body bytes.Buffer
	if err := json.Indent(&body, r.body, "    ", "  "); err != nil {
		fail(fmt.Errorf("%s: the body is not JSON: %w", name, err))
	}
	fmt.Fprintf(out, "\n  %s: {\n    \"headers\": %s,\n    \"body\": %s\n  }", key, headers, body.Bytes())
}

func write(file string, data []byte) {
	if err := os.WriteFile(filepath.Join(os.Args[2], file), data, 0o644); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "harness:", err)
	os.Exit(1)
}
