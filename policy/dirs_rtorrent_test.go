package policy_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rtgate/rtgate/policy"
	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
	"github.com/rtgate/rtgate/xmlrpc"
)

// TestDirectoryQuotingRtorrent098 pins how rTorrent 0.9.8 reads the path
// of a d.directory.set extra command, and checks the policy's parser
// against it: whenever the parser takes a string for one command with a
// literal absolute path, rTorrent sets exactly that path.
func TestDirectoryQuotingRtorrent098(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		rt := rtorrenttest.Start(t, &rtorrenttest.Options{NoSession: true})
		client := rt.Client(t)
		const failed = "(fails)" // rTorrent keeps directory.default and sets d.message
		tests := []struct {
			name string
			cmd  string
			// set is what d.directory then reads; "" for directory.default.
			set string
			// arg is the parser's path; unparsed if it refuses the string.
			arg      string
			unparsed bool
		}{
			{name: "quoted", cmd: `d.directory.set="/a b"`, set: "/a b", arg: "/a b"},
			{name: "base quoted", cmd: `d.directory_base.set="/a b"`, set: "/a b", arg: "/a b"},
			{name: "unquoted", cmd: `d.directory.set=/a`, set: "/a", arg: "/a"},
			{name: "escaped comma", cmd: `d.directory.set=/a\,b`, set: "/a,b", arg: "/a,b"},
			{name: "escaped space", cmd: `d.directory.set=/a\ b`, set: "/a b", arg: "/a b"},
			{name: "escaped semicolon", cmd: `d.directory.set=/a\;b`, set: "/a;b", arg: "/a;b"},
			{name: "escaped quote", cmd: `d.directory.set="/a\"b"`, set: `/a"b`, arg: `/a"b`},
			{name: "escaped escape", cmd: `d.directory.set="/a\\b"`, set: `/a\b`, arg: `/a\b`},
			{name: "quote inside", cmd: `d.directory.set=/a"b"`, set: `/a"b"`, arg: `/a"b"`},
			{name: "parentheses", cmd: `d.directory.set=/dl/(x)`, set: "/dl/(x)", arg: "/dl/(x)"},
			{name: "parentheses quoted", cmd: `d.directory.set="/dl/Movie (2021)"`, set: "/dl/Movie (2021)", arg: "/dl/Movie (2021)"},
			{name: "equals", cmd: `d.directory.set=/a=b`, set: "/a=b", arg: "/a=b"},
			{name: "hash", cmd: `d.directory.set=/x#y`, set: "/x#y", arg: "/x#y"},
			{name: "brace inside", cmd: `d.directory.set=/a{b}`, set: "/a{b}", arg: "/a{b}"},
			{name: "closing brackets", cmd: `d.directory.set=/a)b}c`, set: "/a)b}c", arg: "/a)b}c"},
			{name: "blanks", cmd: " \td.directory.set \t= \t\"/x\" \t", set: "/x", arg: "/x"},
			{name: "dollar inside", cmd: `d.directory.set="/a$b"`, set: "/a$b", arg: "/a$b"},
			{name: "computed", cmd: `d.directory.set=$cat=/etc`, set: "/etc", arg: "$cat=/etc"},
			{name: "computed quoted", cmd: `d.directory.set="$cat=/etc"`, set: "/etc", arg: "$cat=/etc"},
			{name: "computed escaped", cmd: `d.directory.set=\$cat=/etc`, set: "/etc", arg: "$cat=/etc"},
			{name: "call", cmd: `d.directory.set=(cat,/etc)`, set: "/etc", unparsed: true},
			{name: "list of one", cmd: `d.directory.set={/a}`, set: "/a", unparsed: true},
			{name: "list", cmd: `d.directory.set=/a,b`, set: failed, unparsed: true},
			{name: "trailing comma", cmd: `d.directory.set="/x",`, set: failed, unparsed: true},
			{name: "unquoted space", cmd: `d.directory.set=/a b`, set: failed, unparsed: true},
			{name: "unquoted tab", cmd: "d.directory.set=/a\tb", set: failed, unparsed: true},
			{name: "junk after the quote", cmd: `d.directory.set="/x"y`, set: failed, unparsed: true},
			{name: "escape at the end", cmd: `d.directory.set=/a\`, set: failed, unparsed: true},
			{name: "two commands", cmd: `d.directory.set=/x;d.directory.set=/y`, set: "/y", unparsed: true},
			{name: "then another command", cmd: `d.directory.set="/a";d.custom.set=x,y`, set: "/a", unparsed: true},
			{name: "newline after", cmd: "d.directory.set=/x\n", set: "/x", unparsed: true},
			{name: "quoted newline", cmd: "d.directory.set=\"/a\nb\"", set: "/a\nb", arg: "/a\nb"},
			{name: "home", cmd: `d.directory.set=~/x`, set: os.Getenv("HOME") + "/x", arg: "~/x"},
			{name: "empty", cmd: `d.directory.set=`, set: "."},
		}
		ctx := context.Background()
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if _, arg, ok := policy.ParseLiteralCommand(tt.cmd); arg != tt.arg || ok == tt.unparsed {
					t.Errorf("ParseLiteralCommand(%q) = %q, %v; want %q, %v", tt.cmd, arg, ok, tt.arg, !tt.unparsed)
				}
				if strings.HasPrefix(tt.arg, "/") && tt.set != tt.arg {
					t.Errorf("the parser reads %q, rTorrent sets %q", tt.arg, tt.set)
				}

				tr := rtorrenttest.MakeTorrentBytes(t, fmt.Sprintf("quoting-%d", i), 1000)
				if _, err := client.Call(ctx, "load.raw", str(""), xmlrpc.NewBase64(tr.Bytes), str(tt.cmd)); err != nil {
					t.Fatal(err)
				}
				rtorrenttest.WaitLoaded(t, client, tr.Hash)
				dir, err := client.Call(ctx, "d.directory", str(tr.Hash))
				if err != nil {
					t.Fatal(err)
				}
				msg, err := client.Call(ctx, "d.message", str(tr.Hash))
				if err != nil {
					t.Fatal(err)
				}
				got := dir.String()
				if strings.HasPrefix(msg.String(), "Command on torrent creation failed") && got == rt.DownloadDir {
					got = failed
				}
				if got != tt.set {
					t.Errorf("rTorrent set %q (message %q), want %q", got, msg, tt.set)
				}
			})
		}
	})
}

func TestDirectoryDefault(t *testing.T) {
	rtorrenttest.Each(t, func(t *testing.T) {
		home := os.Getenv("HOME")
		tests := []struct {
			name  string
			rc    string // a directory.default.set line; "" for rtorrenttest's
			want  func(rt *rtorrenttest.Instance) string
			needs string // skip unless non-empty
		}{
			{name: "absolute", want: func(rt *rtorrenttest.Instance) string { return rt.DownloadDir }, needs: "x"},
			{name: "home", rc: `directory.default.set = "~/rtgate-dl/"`, want: func(*rtorrenttest.Instance) string { return home + "/rtgate-dl" }, needs: home},
			{name: "relative", rc: `directory.default.set = "./rel/x/.."`, needs: "x", want: func(rt *rtorrenttest.Instance) string {
				dir, err := filepath.EvalSymlinks(rt.Dir)
				if err != nil {
					t.Fatal(err)
				}
				return dir + "/rel"
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if tt.needs == "" {
					t.Skip("HOME is not set")
				}
				opts := &rtorrenttest.Options{NoSession: true}
				if tt.rc != "" {
					opts.ExtraRC = []string{tt.rc}
				}
				rt := rtorrenttest.Start(t, opts)
				got, err := policy.DirectoryDefault(context.Background(), rt.Client(t))
				if want := tt.want(rt); err != nil || got != want {
					t.Errorf("DirectoryDefault = %q, %v; want %q", got, err, want)
				}
			})
		}

		// What rTorrent cannot answer or DirectoryDefault cannot use.
		fault := &xmlrpc.Fault{Code: -506, Message: "method not found"}
		for _, tt := range []struct {
			name    string
			answers map[string]xmlrpc.Value
			wantErr error
		}{
			{name: "fault", answers: map[string]xmlrpc.Value{}, wantErr: fault},
			{name: "not a string", answers: map[string]xmlrpc.Value{"directory.default": xmlrpc.NewInt(1)}, wantErr: policy.ErrBadDirectory},
			{name: "computed", answers: map[string]xmlrpc.Value{"directory.default": str("/dl/$x")}, wantErr: policy.ErrBadDirectory},
			{name: "relative cwd", answers: map[string]xmlrpc.Value{"directory.default": str("dl"), "system.cwd": str("x")}, wantErr: policy.ErrBadDirectory},
			{name: "no cwd", answers: map[string]xmlrpc.Value{"directory.default": str("./")}, wantErr: fault},
			{name: "no home", answers: map[string]xmlrpc.Value{"directory.default": str("~/dl"), "system.env": str(""), "system.cwd": str("/run")}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				c := callerFunc(func(ctx context.Context, method string, params ...xmlrpc.Value) (xmlrpc.Value, error) {
					if v, ok := tt.answers[method]; ok {
						return v, nil
					}
					return xmlrpc.Value{}, fault
				})
				got, err := policy.DirectoryDefault(context.Background(), c)
				if tt.wantErr == nil {
					// Without HOME rTorrent leaves "~" be: a relative path.
					if err != nil || got != "/run/~/dl" {
						t.Errorf("DirectoryDefault = %q, %v", got, err)
					}
					return
				}
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("DirectoryDefault = %q, %v; want %v", got, err, tt.wantErr)
				}
			})
		}
	})
}
