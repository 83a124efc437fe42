package report

import (
	"regexp"
	"strings"
)

// linearizabilityPage matches the name of a porcupine visualization that
// the lin-kv explanation writes into a run's folder
// (linearizability-<key>.html).
var linearizabilityPage = regexp.MustCompile(`^linearizability-[A-Za-z0-9_.-]*\.html$`)

// maxLinearizabilityPage bounds the page read to hash its script.
const maxLinearizabilityPage = 16 << 20

// inlineScript finds the body of each inline <script> element.
var inlineScript = regexp.MustCompile(`(?s)<script>(.*?)</script>`)

// linearizabilityPolicy returns the Content-Security-Policy for the
// porcupine visualization name in root: ContentSecurityPolicy with the
// hashes of the page's own inline scripts also allowed. Porcupine embeds
// its script and the history's data in the page, so its hash differs
// from page to page; only that exact script may run, and neither inline
// event handlers nor scripts from elsewhere. ok is false when the page
// cannot be read or holds no script: it is then served under the usual
// policy.
func linearizabilityPolicy(root rootFS, name string) (policy string, ok bool) {
	b, err := readSmallFile(root, name, maxLinearizabilityPage)
	if err != nil {
		return "", false
	}
	var hashes []string
	for _, m := range inlineScript.FindAllSubmatch(b, -1) {
		hashes = append(hashes, scriptHash(string(m[1])))
	}
	if len(hashes) == 0 {
		return "", false
	}
	return strings.Replace(ContentSecurityPolicy, "script-src ", "script-src "+strings.Join(hashes, " ")+" ", 1), true
}
