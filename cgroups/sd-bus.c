/* sd-bus.c — loading libsystemd's sd-bus on demand (see sd-bus.h). */
#include "cgroups/sd-bus.h"

#include <dlfcn.h>

#define LIBSYSTEMD "libsystemd.so.0"

struct symbol {
  const char *name;
  size_t offset;
};

#define SYM(field, name) {name, offsetof(struct sd_bus_api, field)}

static const struct symbol symbols[] = {
    SYM(new_, "sd_bus_new"),
    SYM(set_address, "sd_bus_set_address"),
    SYM(start, "sd_bus_start"),
    SYM(open_system, "sd_bus_open_system"),
    SYM(unref, "sd_bus_unref"),
    SYM(flush_close_unref, "sd_bus_flush_close_unref"),
    SYM(call, "sd_bus_call"),
    SYM(call_method, "sd_bus_call_method"),
    SYM(match_signal, "sd_bus_match_signal"),
    SYM(process, "sd_bus_process"),
    SYM(wait, "sd_bus_wait"),
    SYM(message_new_method_call, "sd_bus_message_new_method_call"),
    SYM(message_append, "sd_bus_message_append"),
    SYM(message_open_container, "sd_bus_message_open_container"),
    SYM(message_close_container, "sd_bus_message_close_container"),
    SYM(message_read, "sd_bus_message_read"),
    SYM(message_unref, "sd_bus_message_unref"),
    SYM(error_free, "sd_bus_error_free"),
    SYM(error_is_set, "sd_bus_error_is_set"),
    SYM(error_has_name, "sd_bus_error_has_name"),
};

int sd_bus_api_load(const struct sd_bus_api **api, hull_error_t *err) {
  /* Filled once per process; a process uses one libsystemd. */
  static struct sd_bus_api loaded;
  static bool done;
  if (done) {
    *api = &loaded;
    return 0;
  }
  void *lib = dlopen(LIBSYSTEMD, RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL)
    return hull_error(err, 0, "--systemd-cgroup: load " LIBSYSTEMD ": %s",
                      dlerror());
  for (size_t i = 0; i < sizeof(symbols) / sizeof(symbols[0]); i++) {
    void *fn = dlsym(lib, symbols[i].name);
    if (fn == NULL)
      return hull_error(err, 0, "--systemd-cgroup: " LIBSYSTEMD " lacks %s",
                        symbols[i].name);
    memcpy((char *)&loaded + symbols[i].offset, &fn, sizeof(fn));
  }
  done = true;
  *api = &loaded;
  return 0;
}
