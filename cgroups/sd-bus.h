/* sd-bus.h — libsystemd's sd-bus, loaded when the systemd driver is used
 * (private to cgroups/). Linking libsystemd would load it, and the dozen
 * libraries it needs, into every hull command: ~1 MiB of RSS and a slower
 * start for a driver most hosts never use. */
#ifndef HULL_CGROUPS_SD_BUS_H
#define HULL_CGROUPS_SD_BUS_H

#include "runtime/common/common.h"

#include <systemd/sd-bus.h>

struct sd_bus_api {
  int (*new_)(sd_bus **bus);
  int (*set_address)(sd_bus *bus, const char *address);
  int (*start)(sd_bus *bus);
  int (*open_system)(sd_bus **bus);
  sd_bus *(*unref)(sd_bus *bus);
  sd_bus *(*flush_close_unref)(sd_bus *bus);
  int (*call)(sd_bus *bus, sd_bus_message *m, uint64_t usec,
              sd_bus_error *ret_error, sd_bus_message **reply);
  int (*call_method)(sd_bus *bus, const char *destination, const char *path,
                     const char *interface, const char *member,
                     sd_bus_error *ret_error, sd_bus_message **reply,
                     const char *types, ...);
  int (*match_signal)(sd_bus *bus, sd_bus_slot **ret, const char *sender,
                      const char *path, const char *interface,
                      const char *member, sd_bus_message_handler_t callback,
                      void *userdata);
  int (*process)(sd_bus *bus, sd_bus_message **r);
  int (*wait)(sd_bus *bus, uint64_t timeout_usec);
  int (*message_new_method_call)(sd_bus *bus, sd_bus_message **m,
                                 const char *destination, const char *path,
                                 const char *interface, const char *member);
  int (*message_append)(sd_bus_message *m, const char *types, ...);
  int (*message_open_container)(sd_bus_message *m, char type,
                                const char *contents);
  int (*message_close_container)(sd_bus_message *m);
  int (*message_read)(sd_bus_message *m, const char *types, ...);
  sd_bus_message *(*message_unref)(sd_bus_message *m);
  void (*error_free)(sd_bus_error *e);
  int (*error_is_set)(const sd_bus_error *e);
  int (*error_has_name)(const sd_bus_error *e, const char *name);
};

/* libsystemd's functions, loaded on first use; an error names the library
 * when it is missing. */
int sd_bus_api_load(const struct sd_bus_api **api, hull_error_t *err);

#endif
