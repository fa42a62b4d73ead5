/* handler.c — execution handlers: how a container's process is run. */
#include "container.h"
#include "runtime/linux/linux.h"
#include "runtime/vm/vm.h"

#include <string.h>

static const struct exec_handler process_handler = {
    .name = "process",
    .spawn = process_spawn,
    .release = process_release,
    .exec = process_exec,
    .moves_itself_into_cgroup = true,
};

/* The container's process in a microVM; the host sees its monitor. */
static const struct exec_handler vm_handler = {
    .name = VM_HANDLER_NAME,
    .spawn = vm_spawn,
    .release = vm_release,
    .exec = vm_exec,
    .signal_all = vm_signal_all,
    .prepare = vm_prepare_spec,
};

const struct exec_handler *exec_handler_for(const struct spec *spec) {
  return vm_wanted(spec) ? &vm_handler : &process_handler;
}

const struct exec_handler *exec_handler_named(const char *name) {
  if (name == NULL || strcmp(name, process_handler.name) == 0)
    return &process_handler;
  if (strcmp(name, vm_handler.name) == 0)
    return &vm_handler;
  return NULL;
}
