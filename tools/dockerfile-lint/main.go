// dockerfile-lint: the offline Dockerfile check of scripts/check-ops.sh.
//
//	dockerfile-lint FILE...        (a FILE of "-" reads standard input)
//
// Two sets of rules, both from source, with no Docker engine and no registry:
//
//   - BuildKit's own: the file goes through BuildKit's Dockerfile frontend exactly as
//     `docker build --check` does (dockerfile2llb.DockerfileLint: parser, instructions,
//     the stage dispatch and every non-experimental rule of frontend/dockerfile/linter,
//     honouring `# check=skip=...` directives). The one difference: base images are not
//     pulled; a stand-in config (the requested platform, PATH only in Env) is used, so the
//     checks that look inside a base image (UndefinedVar for variables that only the base
//     image defines, InvalidBaseImagePlatform) see an image without them, and
//     CopyIgnoredFile, which needs the build context's .dockerignore, does not run.
//   - the project's (docs/container.md):
//     NonRootNumericUser  the final stage sets USER to a numeric, non-zero uid (and gid, if
//     given), so that Kubernetes' runAsNonRoot can verify it without /etc/passwd;
//     NoRemoteAdd         no ADD of a URL (http(s)://, git): fetch in a RUN that checks a
//     checksum, or from a registry client that does;
//     NoSecretInArgOrEnv  no ARG or ENV whose name says PASSWORD, PASSWD, TOKEN, SECRET,
//     API_KEY or PRIVATE_KEY (build args and ENV end up in the image's history and config;
//     a name ending in _FILE, a path to a mounted secret, is allowed);
//     BaseImagePinned     every FROM (ARG defaults expanded) and COPY --from that is not an
//     earlier stage or scratch names a tag other than latest, or a digest.
//
// Every finding is printed as FILE:LINE: RULE: message; the exit status is 1 when there is
// any finding, 2 when a file cannot be read.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

type finding struct {
	line int
	rule string
	msg  string
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: dockerfile-lint FILE... (- for standard input)")
		os.Exit(2)
	}
	bad := false
	for _, name := range os.Args[1:] {
		dt, err := read(name)
		if err != nil {
			fmt.Fprintf(os.Stderr, "dockerfile-lint: %v\n", err)
			os.Exit(2)
		}
		found := lint(name, dt)
		sort.SliceStable(found, func(i, j int) bool { return found[i].line < found[j].line })
		for _, f := range found {
			fmt.Printf("%s:%d: %s: %s\n", name, f.line, f.rule, f.msg)
		}
		if len(found) > 0 {
			bad = true
		} else {
			fmt.Printf("%s: ok (BuildKit %s Dockerfile checks, project rules %s)\n", name, buildkitVersion(), strings.Join(projectRules, ", "))
		}
	}
	if bad {
		os.Exit(1)
	}
}

func read(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(name)
}

func lint(name string, dt []byte) []finding {
	found := buildkitChecks(name, dt)
	return append(found, projectChecks(dt)...)
}

// buildkitChecks runs BuildKit's frontend lint, as `docker build --check` does, offline.
func buildkitChecks(name string, dt []byte) []finding {
	src := llb.NewSourceMap(nil, name, "Dockerfile", dt)
	src.Definition = &llb.Definition{} // the lint results carry the source; nothing is solved
	res, err := dockerfile2llb.DockerfileLint(context.Background(), dt, dockerfile2llb.ConvertOpt{
		SourceMap:    src,
		MetaResolver: offlineResolver{},
	})
	if err != nil {
		return []finding{{0, "BuildError", err.Error()}}
	}
	var found []finding
	for _, w := range res.Warnings {
		msg := w.Detail
		if w.URL != "" {
			msg += " (" + w.URL + ")"
		}
		found = append(found, finding{firstLine(w.Location.GetRanges()), w.RuleName, msg})
	}
	if res.Error != nil {
		found = append(found, finding{firstLine(res.Error.Location.GetRanges()), "BuildError", res.Error.Message})
	}
	return found
}

func firstLine(rs []*pb.Range) int {
	if len(rs) == 0 {
		return 0
	}
	return int(rs[0].GetStart().GetLine())
}

// offlineResolver answers BuildKit's base-image look-ups without a registry: a non-empty
// image for the requested platform whose Env holds only PATH.
type offlineResolver struct{}

func (offlineResolver) ResolveImageConfig(_ context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	p := platforms.DefaultSpec()
	if opt.ImageOpt != nil && opt.ImageOpt.Platform != nil {
		p = *opt.ImageOpt.Platform
	}
	img := ocispecs.Image{
		Platform: p,
		Config:   ocispecs.ImageConfig{Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}},
		RootFS:   ocispecs.RootFS{Type: "layers", DiffIDs: []digest.Digest{digest.FromString(ref)}},
	}
	dt, err := json.Marshal(img)
	return ref, "", dt, err
}

var projectRules = []string{"NonRootNumericUser", "NoRemoteAdd", "NoSecretInArgOrEnv", "BaseImagePinned"}

var (
	secretName = regexp.MustCompile(`(?i)(PASSWORD|PASSWD|TOKEN|SECRET|API_?KEY|PRIVATE_?KEY)`)
	numeric    = regexp.MustCompile(`^[0-9]+$`)
	remote     = regexp.MustCompile(`(?i)^([a-z][a-z0-9+.-]*://|git@)`)
)

func projectChecks(dt []byte) []finding {
	ast, err := parser.Parse(strings.NewReader(string(dt)))
	if err != nil {
		return nil // BuildKit's pass reports it
	}
	stages, metaArgs, err := instructions.Parse(ast.AST, nil)
	if err != nil || len(stages) == 0 {
		return nil // likewise
	}
	var found []finding
	add := func(loc []parser.Range, rule, format string, a ...any) {
		line := 0
		if len(loc) > 0 {
			line = loc[0].Start.Line
		}
		found = append(found, finding{line, rule, fmt.Sprintf(format, a...)})
	}
	checkArgs := func(c *instructions.ArgCommand) {
		for _, a := range c.Args {
			if secretName.MatchString(a.Key) && !strings.HasSuffix(strings.ToUpper(a.Key), "_FILE") {
				add(c.Location(), "NoSecretInArgOrEnv", "ARG %s looks like a secret: build args stay in the image history; use a build secret (RUN --mount=type=secret) or a runtime Secret", a.Key)
			}
		}
	}

	// ARG defaults before the first FROM are what FROM lines expand with.
	var env []string
	for _, c := range metaArgs {
		checkArgs(&c)
		for _, a := range c.Args {
			if a.Value != nil {
				env = append(env, a.Key+"="+*a.Value)
			}
		}
	}
	lex := shell.NewLex(ast.EscapeToken)
	seen := map[string]bool{}
	for _, st := range stages {
		base, _, err := lex.ProcessWord(st.BaseName, shell.EnvsFromSlice(env))
		switch {
		case err != nil || base == "" || strings.Contains(base, "$"):
			add(st.Location, "BaseImagePinned", "base image %q does not expand to an image name with the ARG defaults", st.BaseName)
		case seen[strings.ToLower(base)] || strings.EqualFold(base, "scratch"):
		default:
			checkPinned(base, st.Location, add)
		}
		if st.Name != "" {
			seen[strings.ToLower(st.Name)] = true
		}
		for _, cmd := range st.Commands {
			switch c := cmd.(type) {
			case *instructions.ArgCommand:
				checkArgs(c)
			case *instructions.EnvCommand:
				for _, kv := range c.Env {
					if secretName.MatchString(kv.Key) && !strings.HasSuffix(strings.ToUpper(kv.Key), "_FILE") {
						add(c.Location(), "NoSecretInArgOrEnv", "ENV %s looks like a secret: ENV is stored in the image config; pass it at run time (a Kubernetes Secret)", kv.Key)
					}
				}
			case *instructions.CopyCommand:
				// COPY --from=<image> pulls an image too
				if from := c.From; from != "" && !seen[strings.ToLower(from)] && !numeric.MatchString(from) && !strings.Contains(from, "$") {
					checkPinned(from, c.Location(), add)
				}
			case *instructions.AddCommand:
				for _, src := range c.SourcePaths {
					if remote.MatchString(src) {
						add(c.Location(), "NoRemoteAdd", "ADD of a remote source %s: nothing checks what arrives; download in a RUN step that verifies a checksum, or COPY from the context", src)
					}
				}
			}
		}
	}

	final := stages[len(stages)-1]
	var user *instructions.UserCommand
	for _, cmd := range final.Commands {
		if c, ok := cmd.(*instructions.UserCommand); ok {
			user = c
		}
	}
	if user == nil {
		add(final.Location, "NonRootNumericUser", "the final stage sets no USER, so the image runs as its base image's user (root for most): add USER <uid>:<gid>, e.g. USER 1000:1000")
		return found
	}
	uid, gid, hasGid := strings.Cut(user.User, ":")
	switch {
	case !numeric.MatchString(uid) || (hasGid && !numeric.MatchString(gid)):
		add(user.Location(), "NonRootNumericUser", "USER %s is not numeric: Kubernetes runAsNonRoot can only verify a numeric uid; use USER <uid>:<gid>, e.g. USER 1000:1000", user.User)
	case strings.TrimLeft(uid, "0") == "":
		add(user.Location(), "NonRootNumericUser", "USER %s is root: the final stage must run as a non-zero uid, e.g. USER 1000:1000", user.User)
	case hasGid && strings.TrimLeft(gid, "0") == "":
		add(user.Location(), "NonRootNumericUser", "USER %s runs in the root group (gid 0): use a non-zero gid, e.g. USER 1000:1000", user.User)
	}
	return found
}

func checkPinned(base string, loc []parser.Range, add func([]parser.Range, string, string, ...any)) {
	named, err := reference.ParseNormalizedNamed(base)
	if err != nil {
		add(loc, "BaseImagePinned", "image %q is not a valid image reference: %v", base, err)
		return
	}
	if _, ok := named.(reference.Digested); ok {
		return
	}
	tagged, ok := named.(reference.Tagged)
	switch {
	case !ok:
		add(loc, "BaseImagePinned", "image %s has no tag, which means :latest: pin a version tag (or a digest)", base)
	case tagged.Tag() == "latest":
		add(loc, "BaseImagePinned", "image %s is pinned to latest: pin a version tag (or a digest)", base)
	}
}

func buildkitVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/moby/buildkit" {
				return d.Version
			}
		}
	}
	return "(unknown version)"
}
