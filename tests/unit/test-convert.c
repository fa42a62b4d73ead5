/* test-convert.c — images/convert.c: an image config becomes a runtime
 * config.json per image-spec conversion.md. Every result goes through hull's
 * own parser (spec_parse) and spec_validate_for_run, as `run` would. */
#include "images/images.h"
#include "runtime/spec/spec.h"
#include "tests/suite.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- fixtures ------------------------------------------------------------ */

static char rootfs[] = "/tmp/hull-convert-XXXXXX";

static void write_in_rootfs(const char *rel, const char *text) {
  cleanup_free char *path = xasprintf("%s/%s", rootfs, rel);
  hull_error_t err = NULL;
  ck_assert_int_eq(write_file_atomic(path, text, strlen(text), 0644, &err), 0);
}

static void setup(void) {
  ck_assert_ptr_nonnull(mkdtemp(rootfs));
  cleanup_free char *etc = xasprintf("%s/etc", rootfs);
  ck_assert_int_eq(mkdir(etc, 0755), 0);
  write_in_rootfs("etc/passwd",
                  "root:x:0:0:root:/root:/bin/sh\n"
                  "# a comment line\n"
                  "alice:x:1000:1000:Alice:/home/alice:/bin/sh\n"
                  "bob:x:1001:100::/home/bob:/bin/sh\n"
                  "nobody:x:65534:65534::/:/bin/false\n");
  write_in_rootfs("etc/group",
                  "root:x:0:\n"
                  "users:x:100:bob\n"
                  "alice:x:1000:\n"
                  "audio:x:29:bob,alice\n"
                  "video:x:44:alice\n"
                  "staff:x:50:carol\n");
}

static void teardown(void) {
  hull_error_t err = NULL;
  remove_tree(rootfs, &err);
  hull_error_release(&err);
  strcpy(rootfs, "/tmp/hull-convert-XXXXXX");
}

/* An image config for this host with `config` as its config object. */
static char *image_config(const char *config) {
  return xasprintf("{\"architecture\":\"%s\",\"os\":\"linux\","
                   "\"config\":%s,\"rootfs\":{\"type\":\"layers\","
                   "\"diff_ids\":[]}}",
                   image_host_architecture(), config);
}

/* Converts, then parses and validates the result as `run` would. */
static struct spec *convert_with(const char *config,
                                 const struct image_run_options *o) {
  cleanup_free char *json = image_config(config);
  cleanup_free char *out = NULL;
  hull_error_t err = NULL;
  int r = image_runtime_config(json, rootfs, o, &out, &err);
  ck_assert_msg(r == 0, "image_runtime_config: %s", err ? err->msg : "?");
  struct spec *spec = NULL;
  r = spec_parse(out, strlen(out), "config.json", &spec, &err);
  ck_assert_msg(r == 0, "spec_parse: %s", err ? err->msg : "?");
  r = spec_validate_for_run(spec, &err);
  ck_assert_msg(r == 0, "spec_validate_for_run: %s", err ? err->msg : "?");
  return spec;
}

static struct spec *convert(const char *config) {
  struct image_run_options o = {0};
  return convert_with(config, &o);
}

/* The one-line error converting a whole image config document gives. */
static char *convert_doc_error(const char *doc,
                               const struct image_run_options *o) {
  struct image_run_options none = {0};
  cleanup_free char *out = NULL;
  hull_error_t err = NULL;
  int r = image_runtime_config(doc, rootfs, o ? o : &none, &out, &err);
  ck_assert_int_lt(r, 0);
  ck_assert_ptr_null(out);
  ck_assert_ptr_null(strchr(err->msg, '\n'));
  char *msg = xstrdup(err->msg);
  hull_error_release(&err);
  return msg;
}

static char *convert_error_with(const char *config,
                                const struct image_run_options *o) {
  cleanup_free char *doc = image_config(config);
  return convert_doc_error(doc, o);
}

static char *convert_error(const char *config) {
  return convert_error_with(config, NULL);
}

static void assert_strv(char **got, const char *const *want) {
  size_t i = 0;
  for (; want[i]; i++) {
    ck_assert_msg(got && got[i], "missing [%zu] \"%s\"", i, want[i]);
    ck_assert_str_eq(got[i], want[i]);
  }
  ck_assert_msg(got == NULL || got[i] == NULL, "extra [%zu] \"%s\"", i,
                got ? got[i] : "");
}

#define STRV(...) ((const char *const[]){__VA_ARGS__, NULL})
#define DEFAULT_PATH \
  "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* ---- Entrypoint and Cmd: process.args ------------------------------------- */

/* conversion.md note 2: Cmd is appended to Entrypoint. */
START_TEST(entrypoint_then_cmd_make_args) {
  cleanup_spec struct spec *s = convert(
      "{\"Entrypoint\":[\"/bin/app\",\"-v\"],\"Cmd\":[\"--fg\",\"x y\"]}");
  assert_strv(s->process->args, STRV("/bin/app", "-v", "--fg", "x y"));
}
END_TEST

/* The caller's command replaces Cmd; Entrypoint stays. */
START_TEST(user_args_replace_cmd_and_keep_entrypoint) {
  struct image_run_options o = {.args = (char *[]){"ls", "-l", NULL}};
  cleanup_spec struct spec *s =
      convert_with("{\"Entrypoint\":[\"/bin/app\"],\"Cmd\":[\"--fg\"]}", &o);
  assert_strv(s->process->args, STRV("/bin/app", "ls", "-l"));
  cleanup_spec struct spec *c = convert_with("{\"Cmd\":[\"/bin/sh\"]}", &o);
  assert_strv(c->process->args, STRV("ls", "-l"));
  /* An empty command is no command: the image's Cmd. */
  struct image_run_options empty = {.args = (char *[]){NULL}};
  cleanup_spec struct spec *e = convert_with("{\"Cmd\":[\"/bin/sh\"]}", &empty);
  assert_strv(e->process->args, STRV("/bin/sh"));
}
END_TEST

START_TEST(entrypoint_alone_or_cmd_alone) {
  cleanup_spec struct spec *s =
      convert("{\"Entrypoint\":[\"/bin/app\",\"serve\"]}");
  assert_strv(s->process->args, STRV("/bin/app", "serve"));
  cleanup_spec struct spec *c = convert("{\"Cmd\":[\"/bin/sh\",\"-c\",\"x\"]}");
  assert_strv(c->process->args, STRV("/bin/sh", "-c", "x"));
}
END_TEST

START_TEST(no_entrypoint_no_cmd_no_args_is_an_error) {
  const char *want = "config: no command: the image has neither Entrypoint "
                     "nor Cmd and none was given";
  const char *configs[] = {"{}", "{\"Entrypoint\":[],\"Cmd\":[]}",
                           "{\"Entrypoint\":null,\"Cmd\":null}", "null"};
  for (size_t i = 0; i < sizeof(configs) / sizeof(*configs); i++) {
    cleanup_free char *msg = convert_error(configs[i]);
    ck_assert_str_eq(msg, want);
  }
  /* The caller's command is enough. */
  struct image_run_options o = {.args = (char *[]){"/bin/true", NULL}};
  cleanup_spec struct spec *s = convert_with("{}", &o);
  assert_strv(s->process->args, STRV("/bin/true"));
}
END_TEST

/* ---- Env: process.env ----------------------------------------------------- */

/* Note 1: no added entry has a name from Config.Env; the image's PATH
 * replaces the default's. */
START_TEST(image_env_over_the_defaults) {
  cleanup_spec struct spec *s = convert(
      "{\"Cmd\":[\"sh\"],\"Env\":[\"FOO=1\",\"PATH=/opt/bin:/bin\","
      "\"EMPTY=\"]}");
  assert_strv(s->process->env, STRV("PATH=/opt/bin:/bin", "FOO=1", "EMPTY="));
  cleanup_spec struct spec *d = convert("{\"Cmd\":[\"sh\"]}");
  assert_strv(d->process->env, STRV(DEFAULT_PATH));
}
END_TEST

/* TERM comes with a terminal only, and never over the image's. */
START_TEST(term_with_a_terminal_unless_the_image_sets_it) {
  struct image_run_options o = {.terminal = true};
  cleanup_spec struct spec *s = convert_with("{\"Cmd\":[\"sh\"]}", &o);
  ck_assert(s->process->terminal);
  assert_strv(s->process->env, STRV(DEFAULT_PATH, "TERM=xterm"));
  cleanup_spec struct spec *t =
      convert_with("{\"Cmd\":[\"sh\"],\"Env\":[\"TERM=vt100\"]}", &o);
  assert_strv(t->process->env, STRV(DEFAULT_PATH, "TERM=vt100"));
  cleanup_spec struct spec *n = convert("{\"Cmd\":[\"sh\"]}");
  ck_assert(!n->process->terminal);
}
END_TEST

START_TEST(caller_env_over_the_image) {
  struct image_run_options o = {.env = (char *[]){"FOO=2", "NEW=x", NULL}};
  cleanup_spec struct spec *s = convert_with(
      "{\"Cmd\":[\"sh\"],\"Env\":[\"FOO=1\",\"BAR=b\"]}", &o);
  assert_strv(s->process->env, STRV(DEFAULT_PATH, "FOO=2", "BAR=b", "NEW=x"));
}
END_TEST

/* ---- WorkingDir: process.cwd ---------------------------------------------- */

START_TEST(working_dir_or_root) {
  cleanup_spec struct spec *s =
      convert("{\"Cmd\":[\"sh\"],\"WorkingDir\":\"/home/alice\"}");
  ck_assert_str_eq(s->process->cwd, "/home/alice");
  cleanup_spec struct spec *d = convert("{\"Cmd\":[\"sh\"],\"WorkingDir\":\"\"}");
  ck_assert_str_eq(d->process->cwd, "/");
  cleanup_free char *msg =
      convert_error("{\"Cmd\":[\"sh\"],\"WorkingDir\":\"work\"}");
  ck_assert_str_eq(msg, "config.WorkingDir \"work\": not an absolute path");
}
END_TEST

/* ---- User: process.user --------------------------------------------------- */

static struct spec *convert_user(const char *user) {
  cleanup_free char *config =
      xasprintf("{\"Cmd\":[\"sh\"],\"User\":\"%s\"}", user);
  return convert(config);
}

static char *convert_user_error(const char *user) {
  cleanup_free char *config =
      xasprintf("{\"Cmd\":[\"sh\"],\"User\":\"%s\"}", user);
  return convert_error(config);
}

static void assert_gids(const struct spec *s, const uint32_t *want, size_t n) {
  ck_assert_uint_eq(s->process->user.n_additional_gids, n);
  for (size_t i = 0; i < n; i++)
    ck_assert_uint_eq(s->process->user.additional_gids[i], want[i]);
}

/* A name: its passwd uid and gid, and the groups that list it. */
START_TEST(user_by_name) {
  cleanup_spec struct spec *s = convert_user("alice");
  ck_assert_uint_eq(s->process->user.uid, 1000);
  ck_assert_uint_eq(s->process->user.gid, 1000);
  assert_gids(s, (const uint32_t[]){29, 44}, 2);
  cleanup_spec struct spec *b = convert_user("bob");
  ck_assert_uint_eq(b->process->user.uid, 1001);
  ck_assert_uint_eq(b->process->user.gid, 100);
  assert_gids(b, (const uint32_t[]){100, 29}, 2);
}
END_TEST

/* A uid: verbatim; its gid from passwd when there, else 0; no groups added
 * (conversion.md: additionalGids are not touched for a numeric user). */
START_TEST(user_by_uid) {
  cleanup_spec struct spec *s = convert_user("1001");
  ck_assert_uint_eq(s->process->user.uid, 1001);
  ck_assert_uint_eq(s->process->user.gid, 100);
  assert_gids(s, NULL, 0);
  cleanup_spec struct spec *u = convert_user("4242");
  ck_assert_uint_eq(u->process->user.uid, 4242);
  ck_assert_uint_eq(u->process->user.gid, 0);
  assert_gids(u, NULL, 0);
}
END_TEST

/* A group given: that gid, no additional groups. */
START_TEST(user_with_group) {
  cleanup_spec struct spec *a = convert_user("4242:4343");
  ck_assert_uint_eq(a->process->user.uid, 4242);
  ck_assert_uint_eq(a->process->user.gid, 4343);
  assert_gids(a, NULL, 0);
  cleanup_spec struct spec *b = convert_user("alice:audio");
  ck_assert_uint_eq(b->process->user.uid, 1000);
  ck_assert_uint_eq(b->process->user.gid, 29);
  assert_gids(b, NULL, 0);
  cleanup_spec struct spec *c = convert_user("alice:7");
  ck_assert_uint_eq(c->process->user.uid, 1000);
  ck_assert_uint_eq(c->process->user.gid, 7);
  cleanup_spec struct spec *d = convert_user("1001:video");
  ck_assert_uint_eq(d->process->user.uid, 1001);
  ck_assert_uint_eq(d->process->user.gid, 44);
  assert_gids(d, NULL, 0);
}
END_TEST

START_TEST(user_unset_is_root) {
  cleanup_spec struct spec *s = convert("{\"Cmd\":[\"sh\"],\"User\":\"\"}");
  ck_assert_uint_eq(s->process->user.uid, 0);
  ck_assert_uint_eq(s->process->user.gid, 0);
  assert_gids(s, NULL, 0);
}
END_TEST

START_TEST(unknown_user_or_group_is_an_error) {
  struct {
    const char *user, *want;
  } cases[] = {
      {"nobody2", "config.User \"nobody2\": no such user in /etc/passwd"},
      {"nobody2:audio",
       "config.User \"nobody2:audio\": no such user in /etc/passwd"},
      {"alice:nogroup",
       "config.User \"alice:nogroup\": no such group in /etc/group"},
      {"0:nogroup", "config.User \"0:nogroup\": no such group in /etc/group"},
      {"alice:", "config.User \"alice:\": expected user[:group]"},
      {":audio", "config.User \":audio\": expected user[:group]"},
      {"4294967296", "config.User \"4294967296\": no such user in "
                     "/etc/passwd"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
    cleanup_free char *msg = convert_user_error(cases[i].user);
    ck_assert_str_eq(msg, cases[i].want);
  }
}
END_TEST

/* No /etc/passwd at all: a name is unknown, a uid still fine. */
START_TEST(no_passwd_file) {
  cleanup_free char *pw = xasprintf("%s/etc/passwd", rootfs);
  ck_assert_int_eq(unlink(pw), 0);
  cleanup_free char *msg = convert_user_error("alice");
  ck_assert_str_eq(msg, "config.User \"alice\": no such user in /etc/passwd");
  cleanup_spec struct spec *s = convert_user("1000");
  ck_assert_uint_eq(s->process->user.uid, 1000);
  ck_assert_uint_eq(s->process->user.gid, 0);
}
END_TEST

/* /etc/passwd a symlink to a host file: resolved inside the rootfs, so the
 * host's file (which has the user) is never read. */
START_TEST(passwd_symlink_to_the_host_is_not_followed_out) {
  char host[] = "/tmp/hull-convert-host-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(host));
  cleanup_free char *host_pw = xasprintf("%s/passwd", host);
  const char *text = "mallory:x:4242:4242::/:/bin/sh\n";
  hull_error_t err = NULL;
  ck_assert_int_eq(write_file_atomic(host_pw, text, strlen(text), 0644, &err),
                   0);
  cleanup_free char *pw = xasprintf("%s/etc/passwd", rootfs);
  cleanup_free char *up = xasprintf("../../../../../../../../..%s", host_pw);
  const char *targets[] = {host_pw, up};
  for (size_t i = 0; i < 2; i++) {
    ck_assert_int_eq(unlink(pw), 0);
    ck_assert_int_eq(symlink(targets[i], pw), 0);
    cleanup_free char *msg = convert_user_error("mallory");
    ck_assert_str_eq(msg,
                     "config.User \"mallory\": no such user in /etc/passwd");
  }
  /* The same link resolves to the rootfs's own copy when it has one. */
  cleanup_free char *inside = xasprintf("%s%s", rootfs, host);
  ck_assert_int_eq(mkdir_p(inside, 0755, &err), 0);
  cleanup_free char *inside_pw = xasprintf("%s%s", rootfs, host_pw);
  const char *own = "mallory:x:77:78::/:/bin/sh\n";
  ck_assert_int_eq(write_file_atomic(inside_pw, own, strlen(own), 0644, &err),
                   0);
  cleanup_spec struct spec *s = convert_user("mallory");
  ck_assert_uint_eq(s->process->user.uid, 77);
  ck_assert_uint_eq(s->process->user.gid, 78);
  remove_tree(host, &err);
  hull_error_release(&err);
}
END_TEST

/* A fifo (or device) at /etc/passwd must not hang or feed hull forever. */
START_TEST(passwd_not_a_regular_file) {
  cleanup_free char *pw = xasprintf("%s/etc/passwd", rootfs);
  ck_assert_int_eq(unlink(pw), 0);
  ck_assert_int_eq(mkfifo(pw, 0644), 0);
  cleanup_free char *msg = convert_user_error("alice");
  ck_assert_str_eq(msg, "config.User \"alice\": /etc/passwd: not a regular "
                        "file");
}
END_TEST

/* ---- annotations ---------------------------------------------------------- */

static const char *annotation(const struct spec *s, const char *key) {
  return spec_map_get(&s->annotations, key);
}

/* The implicit annotations, each from its field verbatim. */
START_TEST(implicit_annotations) {
  cleanup_free char *doc = xasprintf(
      "{\"architecture\":\"%s\",\"os\":\"linux\",\"variant\":\"v8\","
      "\"os.version\":\"6.1\",\"os.features\":[\"a\",\"b\"],"
      "\"author\":\"Alyssa <a@example.com>\","
      "\"created\":\"2015-10-31T22:22:56.015925234Z\","
      "\"config\":{\"Cmd\":[\"sh\"],\"StopSignal\":\"SIGRTMIN+3\","
      "\"ExposedPorts\":{\"8080/tcp\":{},\"53/udp\":{}}},"
      "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}",
      image_host_architecture());
  struct image_run_options o = {0};
  cleanup_free char *out = NULL;
  hull_error_t err = NULL;
  ck_assert_int_eq(image_runtime_config(doc, rootfs, &o, &out, &err), 0);
  cleanup_spec struct spec *s = NULL;
  ck_assert_int_eq(spec_parse(out, strlen(out), "config.json", &s, &err), 0);
  ck_assert_str_eq(annotation(s, "org.opencontainers.image.os"), "linux");
  ck_assert_str_eq(annotation(s, "org.opencontainers.image.architecture"),
                   image_host_architecture());
  ck_assert_str_eq(annotation(s, "org.opencontainers.image.variant"), "v8");
  ck_assert_str_eq(annotation(s, "org.opencontainers.image.os.version"),
                   "6.1");
  ck_assert_str_eq(annotation(s, "org.opencontainers.image.os.features"),
                   "a,b");
  ck_assert_str_eq(annotation(s, "org.opencontainers.image.author"),
                   "Alyssa <a@example.com>");
  ck_assert_str_eq(annotation(s, "org.opencontainers.image.created"),
                   "2015-10-31T22:22:56.015925234Z");
  ck_assert_str_eq(annotation(s, "org.opencontainers.image.stopSignal"),
                   "SIGRTMIN+3");
  ck_assert_str_eq(annotation(s, "org.opencontainers.image.exposedPorts"),
                   "8080/tcp,53/udp");
  /* No network asked for: nothing published. */
  ck_assert_ptr_null(annotation(s, "run.oci.network"));
  ck_assert_ptr_null(annotation(s, "run.oci.network.ports"));
}
END_TEST

/* Labels are annotations, and win over an implicit one of the same key. */
START_TEST(labels_become_annotations_and_win) {
  cleanup_spec struct spec *s = convert(
      "{\"Cmd\":[\"sh\"],\"StopSignal\":\"SIGTERM\",\"Labels\":{"
      "\"com.example.git\":\"https://example.com/p.git\","
      "\"org.opencontainers.image.stopSignal\":\"SIGQUIT\","
      "\"org.opencontainers.image.os\":\"plan9\",\"empty\":\"\"}}");
  ck_assert_str_eq(annotation(s, "com.example.git"),
                   "https://example.com/p.git");
  ck_assert_str_eq(annotation(s, "org.opencontainers.image.stopSignal"),
                   "SIGQUIT");
  ck_assert_str_eq(annotation(s, "org.opencontainers.image.os"), "plan9");
  ck_assert_str_eq(annotation(s, "empty"), "");
  size_t stop = 0;
  for (size_t i = 0; i < s->annotations.len; i++)
    stop += strcmp(s->annotations.items[i].key,
                   "org.opencontainers.image.stopSignal") == 0;
  ck_assert_uint_eq(stop, 1);
}
END_TEST

/* hull obeys run.oci.* annotations (handler, network, published ports): an
 * image's labels must not choose them. */
START_TEST(run_oci_labels_are_left_out) {
  cleanup_spec struct spec *s = convert(
      "{\"Cmd\":[\"sh\"],\"Labels\":{\"run.oci.handler\":\"vm\","
      "\"run.oci.network\":\"bridge\",\"run.oci.network.ports\":\"22:22\","
      "\"keep\":\"me\"}}");
  ck_assert_ptr_null(annotation(s, "run.oci.handler"));
  ck_assert_ptr_null(annotation(s, "run.oci.network"));
  ck_assert_ptr_null(annotation(s, "run.oci.network.ports"));
  ck_assert_str_eq(annotation(s, "keep"), "me");
}
END_TEST

/* The caller's annotations go over the image's labels, run.oci.* too (the
 * caller picks the handler); the network the caller asked for wins. */
START_TEST(caller_annotations_over_labels) {
  struct image_run_options o = {
      .annotations = (char *[]){"run.oci.handler=vm", "keep=yours",
                                "eq=a=b", "empty=", "run.oci.network=x",
                                NULL},
      .network = true, .ports = ""};
  cleanup_spec struct spec *s = convert_with(
      "{\"Cmd\":[\"sh\"],\"Labels\":{\"keep\":\"mine\"}}", &o);
  ck_assert_str_eq(annotation(s, "run.oci.handler"), "vm");
  ck_assert_str_eq(annotation(s, "keep"), "yours");
  ck_assert_str_eq(annotation(s, "eq"), "a=b");
  ck_assert_str_eq(annotation(s, "empty"), "");
  ck_assert_str_eq(annotation(s, "run.oci.network"), "bridge");
  struct image_run_options bad = {.annotations = (char *[]){"novalue", NULL}};
  cleanup_free char *msg = convert_error_with("{\"Cmd\":[\"sh\"]}", &bad);
  ck_assert_str_eq(msg, "annotation \"novalue\": expected KEY=VALUE");
  struct image_run_options nokey = {.annotations = (char *[]){"=v", NULL}};
  cleanup_free char *msg2 = convert_error_with("{\"Cmd\":[\"sh\"]}",
                                               &nokey);
  ck_assert_str_eq(msg2, "annotation \"=v\": expected KEY=VALUE");
}
END_TEST

START_TEST(labels_must_be_strings) {
  cleanup_free char *msg =
      convert_error("{\"Cmd\":[\"sh\"],\"Labels\":{\"a\":1}}");
  ck_assert_str_eq(msg, "config.Labels \"a\": expected a string");
}
END_TEST

/* ---- ExposedPorts with a network of hull's -------------------------------- */

START_TEST(exposed_ports_published_on_the_same_host_port) {
  struct image_run_options o = {.network = true};
  cleanup_spec struct spec *s = convert_with(
      "{\"Cmd\":[\"sh\"],\"ExposedPorts\":{\"80/tcp\":{},\"53/udp\":{},"
      "\"8080\":{}}}",
      &o);
  ck_assert_str_eq(annotation(s, "run.oci.network"), "bridge");
  ck_assert_ptr_null(annotation(s, "run.oci.network.bridge"));
  ck_assert_str_eq(annotation(s, "run.oci.network.ports"),
                   "80:80/tcp,53:53/udp,8080:8080/tcp");
  ck_assert_str_eq(annotation(s, "org.opencontainers.image.exposedPorts"),
                   "80/tcp,53/udp,8080");
  ck_assert_ptr_nonnull(spec_namespace_find(s, SPEC_NS_NETWORK));
  /* "80" is "80/tcp": published once (twice would fail create). */
  cleanup_spec struct spec *d = convert_with(
      "{\"Cmd\":[\"sh\"],\"ExposedPorts\":{\"80\":{},\"80/tcp\":{}}}", &o);
  ck_assert_str_eq(annotation(d, "run.oci.network.ports"), "80:80/tcp");
}
END_TEST

START_TEST(caller_ports_and_network_name) {
  struct image_run_options o = {.network = true, .network_name = "tenant7",
                                .ports = "8080:80/tcp"};
  cleanup_spec struct spec *s = convert_with(
      "{\"Cmd\":[\"sh\"],\"ExposedPorts\":{\"80/tcp\":{},\"443/tcp\":{}}}",
      &o);
  ck_assert_str_eq(annotation(s, "run.oci.network"), "bridge");
  ck_assert_str_eq(annotation(s, "run.oci.network.bridge"), "tenant7");
  ck_assert_str_eq(annotation(s, "run.oci.network.ports"), "8080:80/tcp");
  /* No ports exposed, none given: on the network, nothing published. */
  struct image_run_options plain = {.network = true};
  cleanup_spec struct spec *n = convert_with("{\"Cmd\":[\"sh\"]}", &plain);
  ck_assert_str_eq(annotation(n, "run.oci.network"), "bridge");
  ck_assert_ptr_null(annotation(n, "run.oci.network.ports"));
}
END_TEST

START_TEST(bad_ports_are_errors) {
  struct image_run_options o = {.network = true};
  cleanup_free char *sctp = convert_error_with(
      "{\"Cmd\":[\"sh\"],\"ExposedPorts\":{\"9/sctp\":{}}}", &o);
  ck_assert_str_eq(sctp, "config.ExposedPorts \"9/sctp\": hull publishes tcp "
                         "and udp ports only (give the ports to publish)");
  cleanup_free char *num = convert_error_with(
      "{\"Cmd\":[\"sh\"],\"ExposedPorts\":{\"http/tcp\":{}}}", &o);
  ck_assert_str_eq(num, "config.ExposedPorts \"http/tcp\": expected "
                        "port[/tcp|/udp], a port from 1 to 65535");
  struct image_run_options given = {.network = true, .ports = "80"};
  cleanup_free char *bad = convert_error_with("{\"Cmd\":[\"sh\"]}", &given);
  ck_assert_str_eq(bad, "run.oci.network.ports: \"80\": expected "
                        "host_port:container_port[/tcp|/udp]");
  /* Without a network the sctp port is only an annotation. */
  cleanup_spec struct spec *s =
      convert("{\"Cmd\":[\"sh\"],\"ExposedPorts\":{\"9/sctp\":{}}}");
  ck_assert_str_eq(annotation(s, "org.opencontainers.image.exposedPorts"),
                   "9/sctp");
}
END_TEST

/* ---- Volumes: mounts ------------------------------------------------------ */

START_TEST(volumes_become_tmpfs_mounts) {
  cleanup_spec struct spec *d = convert("{\"Cmd\":[\"sh\"]}");
  cleanup_spec struct spec *s = convert(
      "{\"Cmd\":[\"sh\"],\"Volumes\":{\"/var/log/app\":{},\"/data\":{},"
      "\"/var\":{}}}");
  ck_assert_uint_eq(s->n_mounts, d->n_mounts + 3);
  /* Parents before children, so /var does not hide /var/log/app. */
  const char *want[] = {"/data", "/var", "/var/log/app"};
  for (size_t i = 0; i < 3; i++) {
    const struct spec_mount *m = &s->mounts[d->n_mounts + i];
    ck_assert_str_eq(m->destination, want[i]);
    ck_assert_str_eq(m->type, "tmpfs");
    ck_assert_str_eq(m->source, "tmpfs");
    assert_strv(m->options, STRV("rw", "nosuid", "nodev", "tmpcopyup"));
  }
  struct image_run_options o = {.volumes = IMAGE_VOLUMES_NONE};
  cleanup_spec struct spec *n =
      convert_with("{\"Cmd\":[\"sh\"],\"Volumes\":{\"/data\":{}}}", &o);
  ck_assert_uint_eq(n->n_mounts, d->n_mounts);
  cleanup_free char *msg =
      convert_error("{\"Cmd\":[\"sh\"],\"Volumes\":{\"data\":{}}}");
  ck_assert_str_eq(msg, "config.Volumes \"data\": not an absolute path");
}
END_TEST

/* Bind mode: each volume a bind of the same path under volumes_dir, the
 * path cleaned first so that the source stays under volumes_dir. */
START_TEST(volumes_as_binds_under_a_directory) {
  cleanup_spec struct spec *d = convert("{\"Cmd\":[\"sh\"]}");
  struct image_run_options o = {.volumes = IMAGE_VOLUMES_BIND,
                                .volumes_dir = "/var/lib/hull/v/c1"};
  cleanup_spec struct spec *s = convert_with(
      "{\"Cmd\":[\"sh\"],\"Volumes\":{\"/var/lib/db\":{},"
      "\"/x/../../../etc/\":{},\"/data/.\":{},\"/data\":{}}}",
      &o);
  ck_assert_uint_eq(s->n_mounts, d->n_mounts + 3);
  const char *dest[] = {"/data", "/etc", "/var/lib/db"};
  for (size_t i = 0; i < 3; i++) {
    const struct spec_mount *m = &s->mounts[d->n_mounts + i];
    ck_assert_str_eq(m->destination, dest[i]);
    ck_assert_str_eq(m->type, "bind");
    cleanup_free char *src = xasprintf("/var/lib/hull/v/c1%s", dest[i]);
    ck_assert_str_eq(m->source, src);
    assert_strv(m->options, STRV("rbind", "rw", "nosuid", "nodev"));
  }
  struct image_run_options nodir = {.volumes = IMAGE_VOLUMES_BIND};
  cleanup_free char *msg = convert_error_with(
      "{\"Cmd\":[\"sh\"],\"Volumes\":{\"/data\":{}}}", &nodir);
  ck_assert_str_eq(msg, "volumes_dir \"\": not an absolute path");
  cleanup_free char *root = convert_error_with(
      "{\"Cmd\":[\"sh\"],\"Volumes\":{\"/a/..\":{}}}", &o);
  ck_assert_str_eq(root, "config.Volumes \"/a/..\": the root itself");
}
END_TEST

/* ---- the rest of the document: hull spec's defaults ------------------------- */

START_TEST(defaults_root_and_hostname) {
  cleanup_spec struct spec *def = NULL;
  cleanup_free char *dj = spec_default_json(false);
  hull_error_t err = NULL;
  ck_assert_int_eq(spec_parse(dj, strlen(dj), "default", &def, &err), 0);
  cleanup_spec struct spec *s = convert("{\"Cmd\":[\"sh\"]}");
  ck_assert_str_eq(s->root.path, rootfs);
  ck_assert(!s->root.readonly);
  ck_assert_str_eq(s->hostname, def->hostname);
  ck_assert_uint_eq(s->linux->n_namespaces, def->linux->n_namespaces);
  assert_strv(s->linux->masked_paths,
              (const char *const *)def->linux->masked_paths);
  assert_strv(s->process->capabilities->bounding,
              (const char *const *)def->process->capabilities->bounding);
  ck_assert(s->process->no_new_privileges);
  ck_assert_uint_eq(s->n_mounts, def->n_mounts);

  struct image_run_options o = {.hostname = "web1", .readonly_rootfs = true};
  cleanup_spec struct spec *h = convert_with("{\"Cmd\":[\"sh\"]}", &o);
  ck_assert_str_eq(h->hostname, "web1");
  ck_assert(h->root.readonly);
}
END_TEST

START_TEST(rootless_defaults) {
  struct image_run_options o = {.rootless = true};
  cleanup_spec struct spec *s = convert_with("{\"Cmd\":[\"sh\"]}", &o);
  ck_assert_ptr_nonnull(spec_namespace_find(s, SPEC_NS_USER));
  struct image_run_options net = {.rootless = true, .network = true};
  cleanup_free char *msg = convert_error_with("{\"Cmd\":[\"sh\"]}", &net);
  ck_assert_str_eq(msg, "network: a network of hull's needs a network "
                        "namespace, which rootless containers do not get");
}
END_TEST

/* --uidmap/--gidmap: the maps and a user namespace among the default's. */
START_TEST(id_maps_give_a_user_namespace) {
  struct image_id_maps m = {0};
  hull_error_t err = NULL;
  ck_assert_int_eq(image_id_maps_add(&m, "--uidmap", "0:100000:1000", &err),
                   0);
  ck_assert_int_eq(image_id_maps_add(&m, "--uidmap", "1000:300000:10",
                                     &err), 0);
  ck_assert_int_eq(image_id_maps_finish(&m, &err), 0);
  struct image_run_options o = {.id_maps = &m};
  cleanup_spec struct spec *s = convert_with("{\"Cmd\":[\"sh\"]}", &o);
  ck_assert_ptr_nonnull(spec_namespace_find(s, SPEC_NS_USER));
  ck_assert_ptr_nonnull(spec_namespace_find(s, SPEC_NS_NETWORK));
  ck_assert_uint_eq(s->linux->n_uid_mappings, 2);
  ck_assert_uint_eq(s->linux->uid_mappings[1].container_id, 1000);
  ck_assert_uint_eq(s->linux->uid_mappings[1].host_id, 300000);
  ck_assert_uint_eq(s->linux->uid_mappings[1].size, 10);
  /* No --gidmap: the gids get the uid maps, as podman's. */
  ck_assert_uint_eq(s->linux->n_gid_mappings, 2);
  ck_assert_uint_eq(s->linux->gid_mappings[0].host_id, 100000);
  ck_assert_uint_eq(image_id_maps_host_uid(&m, 1005), 300005);
  ck_assert_uint_eq(image_id_maps_host_uid(&m, 2000), 65534);
  image_id_maps_clear(&m);
}
END_TEST

START_TEST(rootfs_must_be_absolute) {
  cleanup_free char *doc = image_config("{\"Cmd\":[\"sh\"]}");
  struct image_run_options o = {0};
  cleanup_free char *out = NULL;
  hull_error_t err = NULL;
  ck_assert_int_lt(image_runtime_config(doc, "rootfs", &o, &out, &err), 0);
  ck_assert_str_eq(err->msg, "rootfs \"rootfs\": not an absolute path");
  hull_error_release(&err);
}
END_TEST

/* ---- platform and malformed documents -------------------------------------- */

START_TEST(os_and_architecture_must_be_the_hosts) {
  cleanup_free char *win = convert_doc_error(
      "{\"architecture\":\"amd64\",\"os\":\"windows\",\"config\":{\"Cmd\":"
      "[\"sh\"]}}", NULL);
  ck_assert_str_eq(win, "os \"windows\": the image is not for linux");
  const char *other =
      strcmp(image_host_architecture(), "s390x") == 0 ? "arm64" : "s390x";
  cleanup_free char *doc = xasprintf(
      "{\"architecture\":\"%s\",\"os\":\"linux\",\"config\":{\"Cmd\":"
      "[\"sh\"]}}", other);
  cleanup_free char *arch = convert_doc_error(doc, NULL);
  cleanup_free char *want = xasprintf(
      "architecture \"%s\": the image is not for this host (%s)", other,
      image_host_architecture());
  ck_assert_str_eq(arch, want);
  cleanup_free char *none =
      convert_doc_error("{\"config\":{\"Cmd\":[\"sh\"]}}", NULL);
  ck_assert_str_eq(none, "os: required");
}
END_TEST

START_TEST(malformed_config_is_an_error) {
  cleanup_free char *syntax = convert_doc_error("{\"os\": \"linux\",", NULL);
  ck_assert_msg(strncmp(syntax, "image config: invalid JSON: ", 28) == 0,
                "%s", syntax);
  cleanup_free char *array = convert_doc_error("[1,2]", NULL);
  ck_assert_str_eq(array, "image config: expected a JSON object");
  struct {
    const char *config, *want;
  } cases[] = {
      {"{\"Cmd\":\"sh\"}", "config.Cmd: expected an array of strings"},
      {"{\"Cmd\":[\"sh\",1]}", "config.Cmd: expected an array of strings"},
      {"{\"Cmd\":[\"sh\"],\"Env\":{}}",
       "config.Env: expected an array of strings"},
      {"{\"Cmd\":[\"sh\"],\"User\":0}", "config.User: expected a string"},
      {"{\"Cmd\":[\"sh\"],\"Volumes\":[\"/data\"]}",
       "config.Volumes: expected an object"},
      {"\"x\"", "config: expected an object"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
    cleanup_free char *msg = convert_error(cases[i].config);
    ck_assert_str_eq(msg, cases[i].want);
  }
}
END_TEST

static Suite *convert_suite(void) {
  Suite *s = suite_create("convert");
  TCase *tc = tcase_create("convert");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, entrypoint_then_cmd_make_args);
  tcase_add_test(tc, user_args_replace_cmd_and_keep_entrypoint);
  tcase_add_test(tc, entrypoint_alone_or_cmd_alone);
  tcase_add_test(tc, no_entrypoint_no_cmd_no_args_is_an_error);
  tcase_add_test(tc, image_env_over_the_defaults);
  tcase_add_test(tc, term_with_a_terminal_unless_the_image_sets_it);
  tcase_add_test(tc, caller_env_over_the_image);
  tcase_add_test(tc, working_dir_or_root);
  tcase_add_test(tc, id_maps_give_a_user_namespace);
  tcase_add_test(tc, user_by_name);
  tcase_add_test(tc, user_by_uid);
  tcase_add_test(tc, user_with_group);
  tcase_add_test(tc, user_unset_is_root);
  tcase_add_test(tc, unknown_user_or_group_is_an_error);
  tcase_add_test(tc, no_passwd_file);
  tcase_add_test(tc, passwd_symlink_to_the_host_is_not_followed_out);
  tcase_add_test(tc, passwd_not_a_regular_file);
  tcase_add_test(tc, implicit_annotations);
  tcase_add_test(tc, labels_become_annotations_and_win);
  tcase_add_test(tc, run_oci_labels_are_left_out);
  tcase_add_test(tc, caller_annotations_over_labels);
  tcase_add_test(tc, labels_must_be_strings);
  tcase_add_test(tc, exposed_ports_published_on_the_same_host_port);
  tcase_add_test(tc, caller_ports_and_network_name);
  tcase_add_test(tc, bad_ports_are_errors);
  tcase_add_test(tc, volumes_become_tmpfs_mounts);
  tcase_add_test(tc, volumes_as_binds_under_a_directory);
  tcase_add_test(tc, defaults_root_and_hostname);
  tcase_add_test(tc, rootless_defaults);
  tcase_add_test(tc, rootfs_must_be_absolute);
  tcase_add_test(tc, os_and_architecture_must_be_the_hosts);
  tcase_add_test(tc, malformed_config_is_an_error);
  suite_add_tcase(s, tc);
  return s;
}

HULL_SUITE(convert_suite)
