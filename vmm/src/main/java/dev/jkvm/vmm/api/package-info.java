/**
 * The embedding API: describe a machine with {@link dev.jkvm.vmm.api.VirtualMachine#builder()},
 * {@link dev.jkvm.vmm.api.VirtualMachine#start()} it, then {@link dev.jkvm.vmm.api.RunningVm#await()}
 * its {@link dev.jkvm.vmm.api.VmOutcome}; {@link dev.jkvm.vmm.api.ExitStatus} maps outcomes to
 * process exit statuses for the CLI.
 */
package dev.jkvm.vmm.api;
