/* handler.c — execution handlers: how a container's process is run. */
#include "container.h"
#include "runtime/linux/linux.h"

#include <string.h>

static const struct exec_handler process_handler = {
    .name = "process",
    .spawn = process_spawn,
    .release = process_release,
    .exec = process_exec,
};

const struct exec_handler *exec_handler_for(const struct spec *spec) {
  (void)spec;
  return &process_handler;
}

const struct exec_handler *exec_handler_named(const char *name) {
  if (name == NULL || strcmp(name, process_handler.name) == 0)
    return &process_handler;
  return NULL;
}
