package browser

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestChineseErrorText: in Chinese an error the server answers shows the
// Chinese text of its Code (errors.zh.js), with the server's own message
// and the RequestId beside it; so does a per-item failure.
func TestChineseErrorText(t *testing.T) {
	s := startServer(t)
	ctx := tab(t)
	seedDirectory(t, s, 1, delegate)
	const outsider = "9999999999999999"

	// An account outside the directory: describe-setup answers 403 Forbidden.Role.
	do(t, ctx, chromedp.Navigate(s.base+"/"), view("signin"), click("#language"), view("signin"),
		until("html lang", `document.documentElement.lang === "zh-CN"`),
		signInFromButton(outsider), view("outsider"),
		hasText("main .error .code", "Forbidden.Role"),
		hasText("main .error .explained", "您的角色无权执行此操作"),
		until("a RequestId", `document.querySelector('main .error input.rid').value.length > 0`))
	box := get(t, ctx, eval[[]string](`[...document.querySelectorAll('main .error dt, main .error dd')].map(e => e.textContent)`))
	msg := get(t, ctx, text("main .error .message"))
	if !strings.Contains(strings.Join(box, "|"), "说明|您的角色") || !strings.Contains(strings.Join(box, "|"), "服务器信息|") {
		t.Errorf("error box = %q, want 说明 with the Chinese text and 服务器信息 with the server's message", box)
	}
	// The server's message is its own (English) words.
	if !strings.Contains(msg, outsider) || !strings.ContainsAny(msg, "abcdefghijklmnopqrstuvwxyz") {
		t.Errorf("server message %q: want the server's English message naming %s", msg, outsider)
	}

	// A per-target failure: the owner invites an account already in the directory.
	do(t, ctx, signOut(), signInFromButton(owner), view("setup"),
		typeIn("#step-2 textarea", delegate), click("#invite"), count("#invite-results li", 1),
		hasText("#invite-results li.failed .code", "AlreadyInDirectory"),
		hasText("#invite-results li.failed .explained", "该账号已在本资源目录中"),
		until("the server's message", fmt.Sprintf(`document.querySelector('#invite-results li.failed .message').textContent.includes(%s)`, q(delegate))))
}
