/* vm-agent.c — `hull vm-agent`: the guest agent of VM mode (runtime/vm/
 * guest/). Hidden: not a verb for people, hull runs it as the guest's PID 1
 * (and the tests run it on the host). */
#include "cli.h"
#include "runtime/vm/vm.h"

int cmd_vm_agent(const struct global_options *g, int argc, char **argv,
                 hull_error_t *err) {
  (void)g;
  (void)err;
  return vm_agent_main(argc, argv);
}
