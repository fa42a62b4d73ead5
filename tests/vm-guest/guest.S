/* guest.S — hull's freestanding test guest for the built-in VMM.
 *
 * Linked at 1 MiB (guest.ld) as an ELF64, and flattened to guest.bin, which
 * the unit test wraps as a minimal bzImage (whose 64-bit entry is the
 * protected-mode part's start + 0x200, hence the .org below). It starts in
 * the long-mode state hull sets up, checks that state (64-bit registers work,
 * RSI points at boot_params with "HdrS" in its setup header), prints one
 * line to the 8250 UART at 0x3f8, polling LSR.THRE, and asks the i8042 to
 * reset the machine, which ends vm_run(). The code is position independent,
 * so the bzImage can be loaded anywhere.
 *
 * With a command line that starts with "echo" it serves COM2 (0x2f8, the
 * agent channel) instead, after its hello on COM1: it turns the 16550 FIFO
 * on (which empties it), says '>' on COM2 (the host speaks only after
 * that, as the monitor waits for the agent's READY), then reads each byte
 * (polling LSR.DR), upper-cases a-z, writes it back (polling LSR.THRE),
 * and resets the machine when it reads a NUL.
 *
 * With "vcon" it does the same over the virtio console at 0xd0000000
 * (virtio-mmio, as vm_run lays it out with agent_virtio): it checks the
 * magic, version 2 and device id 3, negotiates VERSION_1, sets up the
 * receive and transmit queues, says '>' through the transmit queue, then
 * receives up to 256 bytes at a time into one buffer, upper-cases them and
 * sends them back, until a NUL. It polls the used rings (interrupts stay
 * off), so each queue has one descriptor, reused.
 *
 * With "vblk" it drives the virtio-blk disk at 0xd0000000 the same way:
 * reads sector 1 and prints it (a NUL-terminated line) on COM1, then
 * writes "hull-guest: written\n" to sector 2, checking each status.
 *
 * With "smp2" it checks the MP table's "_MP_" at 0x9fc00, starts vCPU 1
 * with INIT and SIPI through its LAPIC (vector 0x10: the AP runs a 16-bit
 * stub copied to 0x10000 that writes 0x55 to 0x10100 and halts), waits for
 * that byte, says "hull-guest: smp\n" on COM1 and resets.
 *
 * For bench/vmm-bench.sh, qemu boots the same ELF by its PVH note: the
 * 32-bit entry at offset 0 builds its own page tables and GDT, enters long
 * mode and says hello (no boot_params to check there), then resets. */
        .code64
        .section .text.boot, "ax"
        .globl _start

/* The 32-bit entry at offset 0 (PVH; unused by hull). */
        .code32
entry32:
        jmp     pvh_start
        .code64

        .org    0x200
_start:
        mov     %rsi, %rbx                  /* boot_params */
        movabs  $0x100000000, %rax          /* only a 64-bit CPU keeps bit 32 */
        shr     $32, %rax
        cmp     $1, %rax
        jne     fail
        cmpl    $0x53726448, 0x202(%rbx)    /* boot_params.hdr.header == "HdrS" */
        jne     fail
        lea     hello(%rip), %rsi
        call    puts
        mov     0x228(%rbx), %edi           /* boot_params.hdr.cmd_line_ptr */
        test    %edi, %edi
        jz      reset
        cmpl    $0x6f686365, (%rdi)         /* "echo" */
        je      echo
        cmpl    $0x6e6f6376, (%rdi)         /* "vcon" */
        je      vcon
        cmpl    $0x6b6c6276, (%rdi)         /* "vblk" */
        je      vblk
        cmpl    $0x32706d73, (%rdi)         /* "smp2" */
        je      smp
        jmp     reset
fail:
        lea     broken(%rip), %rsi
        call    puts
reset:
        mov     $0xfe, %al
        out     %al, $0x64
1:      cli
        hlt
        jmp     1b

/* echo: COM2 in, upper-cased, COM2 out, until a NUL. */
echo:
        mov     $0x2fa, %dx                 /* FCR: FIFO on, both cleared */
        mov     $0x07, %al
        out     %al, %dx
        mov     $0x2fb, %dx                 /* LCR: 8N1, DLAB off */
        mov     $0x03, %al
        out     %al, %dx
        mov     $'>', %al                   /* ready */
        jmp     3f
1:      mov     $0x2fd, %dx                 /* LSR */
2:      in      %dx, %al
        test    $0x01, %al                  /* DR */
        jz      2b
        mov     $0x2f8, %dx                 /* RBR */
        in      %dx, %al
        test    %al, %al
        jz      reset
        cmp     $'a', %al
        jb      3f
        cmp     $'z', %al
        ja      3f
        sub     $0x20, %al
3:      mov     %al, %cl
        mov     $0x2fd, %dx
4:      in      %dx, %al
        test    $0x20, %al                  /* THRE */
        jz      4b
        mov     $0x2f8, %dx                 /* THR */
        mov     %cl, %al
        out     %al, %dx
        jmp     1b

/* ---- vcon: the echo over the virtio console ---------------------------- */
        .set    VIO, 0xd0000000
        .set    RXQ, 0x40000                /* desc; avail +0x1000; used +0x2000 */
        .set    TXQ, 0x44000
        .set    RXBUF, 0x48000
        .set    RXBUF_LEN, 256
vcon:
        mov     $3, %eax                    /* DeviceID: console */
        call    vio_start
        xor     %eax, %eax                  /* receiveq */
        mov     $RXQ, %ebx
        call    vq_setup
        mov     $1, %eax                    /* transmitq */
        mov     $TXQ, %ebx
        call    vq_setup
        movl    $15, 0x070(%r12)            /* DRIVER_OK */
        jmp     vcon_ready

/* vio_start: the device at VIO (R12) must be virtio-mmio version 2 with
 * DeviceID EAX; resets it and negotiates VERSION_1 alone. */
vio_start:
        mov     $VIO, %r12d
        cmpl    $0x74726976, 0x000(%r12)    /* MagicValue "virt" */
        jne     fail
        cmpl    $2, 0x004(%r12)             /* Version */
        jne     fail
        cmp     %eax, 0x008(%r12)           /* DeviceID */
        jne     fail
        movl    $0, 0x070(%r12)             /* Status: reset */
        movl    $1, 0x070(%r12)             /* ACKNOWLEDGE */
        movl    $3, 0x070(%r12)             /* DRIVER */
        movl    $1, 0x024(%r12)             /* DriverFeaturesSel 1 */
        movl    $1, 0x020(%r12)             /* VERSION_1 (bit 32) */
        movl    $0, 0x024(%r12)
        movl    $0, 0x020(%r12)
        movl    $11, 0x070(%r12)            /* FEATURES_OK */
        testl   $8, 0x070(%r12)
        jz      fail
        ret

vcon_ready:
        lea     ready(%rip), %rsi
        mov     $1, %ecx
        call    vq_send
1:      call    vq_recv                     /* EAX: bytes at RXBUF */
        mov     %eax, %ecx
        mov     $RXBUF, %esi
        xor     %edi, %edi
2:      cmp     %ecx, %edi
        jae     4f
        movzbl  (%rsi,%rdi), %eax
        test    %al, %al
        jz      5f
        cmp     $'a', %al
        jb      3f
        cmp     $'z', %al
        ja      3f
        subb    $0x20, (%rsi,%rdi)
3:      inc     %edi
        jmp     2b
4:      call    vq_send
        jmp     1b
5:      mov     %edi, %ecx                  /* the bytes before the NUL */
        test    %ecx, %ecx
        jz      reset
        call    vq_send
        jmp     reset

/* vq_setup: queue EAX, 16 entries, rings at EBX (+0x1000, +0x2000). */
vq_setup:
        mov     %eax, 0x030(%r12)           /* QueueSel */
        cmpl    $16, 0x034(%r12)            /* QueueNumMax */
        jb      fail
        movl    $16, 0x038(%r12)            /* QueueNum */
        mov     %ebx, 0x080(%r12)           /* QueueDesc */
        movl    $0, 0x084(%r12)
        lea     0x1000(%rbx), %ecx
        mov     %ecx, 0x090(%r12)           /* QueueDriver (avail) */
        movl    $0, 0x094(%r12)
        lea     0x2000(%rbx), %ecx
        mov     %ecx, 0x0a0(%r12)           /* QueueDevice (used) */
        movl    $0, 0x0a4(%r12)
        movl    $1, 0x044(%r12)             /* QueueReady */
        cmpl    $1, 0x044(%r12)
        jne     fail
        ret

/* vq_send: ECX bytes at RSI out through the transmitq; waits until the
 * device has used them. */
vq_send:
        mov     %rsi, TXQ                   /* desc 0: addr */
        mov     %ecx, TXQ + 8               /* len */
        movl    $0, TXQ + 12                /* flags 0, next 0 */
        movzwl  TXQ + 0x1002, %eax          /* avail idx */
        mov     %eax, %edx
        and     $15, %edx
        movw    $0, TXQ + 0x1004(,%rdx,2)   /* ring[idx % 16] = desc 0 */
        inc     %eax
        movw    %ax, TXQ + 0x1002
        movl    $1, 0x050(%r12)             /* QueueNotify: transmitq */
1:      cmpw    %ax, TXQ + 0x2002           /* used idx caught up? */
        jne     1b
        ret

/* vq_recv: offers RXBUF to the receiveq, waits until the device has
 * filled it; EAX = its used length. */
vq_recv:
        movq    $RXBUF, RXQ
        movl    $RXBUF_LEN, RXQ + 8
        movl    $2, RXQ + 12                /* flags WRITE, next 0 */
        movzwl  RXQ + 0x1002, %eax
        mov     %eax, %edx
        and     $15, %edx
        movw    $0, RXQ + 0x1004(,%rdx,2)
        inc     %eax
        movw    %ax, RXQ + 0x1002
        movl    $0, 0x050(%r12)             /* QueueNotify: receiveq */
1:      cmpw    %ax, RXQ + 0x2002
        jne     1b
        dec     %eax
        and     $15, %eax
        mov     RXQ + 0x2008(,%rax,8), %eax /* used.ring[i].len */
        ret

/* ---- vblk: a read and a write on the virtio disk ------------------------ */
        .set    BLKHDR, 0x4a000
        .set    BLKSTATUS, 0x4a100
        .set    BLKDATA, 0x4b000
vblk:
        mov     $2, %eax                    /* DeviceID: block */
        call    vio_start
        xor     %eax, %eax                  /* requestq */
        mov     $RXQ, %ebx
        call    vq_setup
        movl    $15, 0x070(%r12)            /* DRIVER_OK */
        xor     %eax, %eax                  /* VIRTIO_BLK_T_IN */
        mov     $1, %ebx                    /* sector 1 */
        mov     $3, %ecx                    /* the data: NEXT | WRITE */
        call    blk_request
        test    %eax, %eax
        jnz     fail
        mov     $BLKDATA, %esi
        call    puts
        lea     written(%rip), %rsi
        mov     $BLKDATA, %edi
        mov     $(written_end - written), %ecx
        rep movsb
        mov     $1, %eax                    /* VIRTIO_BLK_T_OUT */
        mov     $2, %ebx                    /* sector 2 */
        mov     $1, %ecx                    /* the data: NEXT */
        call    blk_request
        test    %eax, %eax
        jnz     fail
        jmp     reset

/* blk_request: type EAX, sector EBX, 512 bytes at BLKDATA whose
 * descriptor has flags ECX; waits for it; EAX = its status byte. */
blk_request:
        mov     %eax, BLKHDR                /* type */
        movl    $0, BLKHDR + 4              /* reserved */
        mov     %rbx, BLKHDR + 8            /* sector */
        movb    $0xff, BLKSTATUS
        movq    $BLKHDR, RXQ                /* desc 0: the header */
        movl    $16, RXQ + 8
        movw    $1, RXQ + 12                /* NEXT */
        movw    $1, RXQ + 14
        movq    $BLKDATA, RXQ + 16          /* desc 1: the data */
        movl    $512, RXQ + 24
        movw    %cx, RXQ + 28
        movw    $2, RXQ + 30
        movq    $BLKSTATUS, RXQ + 32        /* desc 2: the status */
        movl    $1, RXQ + 40
        movw    $2, RXQ + 44                /* WRITE */
        movw    $0, RXQ + 46
        movzwl  RXQ + 0x1002, %eax
        mov     %eax, %edx
        and     $15, %edx
        movw    $0, RXQ + 0x1004(,%rdx,2)   /* ring[idx % 16] = desc 0 */
        inc     %eax
        movw    %ax, RXQ + 0x1002
        movl    $0, 0x050(%r12)             /* QueueNotify: requestq */
1:      cmpw    %ax, RXQ + 0x2002
        jne     1b
        movzbl  BLKSTATUS, %eax
        ret

/* ---- smp2: start vCPU 1 ------------------------------------------------- */
        .set    LAPIC, 0xfee00000
        .set    AP_CODE, 0x10000            /* SIPI vector 0x10 */
        .set    AP_FLAG, 0x10100
smp:
        cmpl    $0x5f504d5f, 0x9fc00        /* "_MP_" */
        jne     fail
        lea     ap_stub(%rip), %rsi
        mov     $AP_CODE, %edi
        mov     $(ap_stub_end - ap_stub), %ecx
        rep movsb
        movb    $0, AP_FLAG
        mov     $LAPIC, %r12d
        movl    $0x1ff, 0xf0(%r12)          /* SVR: APIC on, spurious 0xff */
        movl    $(1 << 24), 0x310(%r12)     /* ICR high: APIC id 1 */
        movl    $0x4500, 0x300(%r12)        /* INIT, assert */
        movl    $0x4610, 0x300(%r12)        /* SIPI, vector 0x10 */
        mov     $200000000, %ecx            /* a bound: fail, not hang */
1:      cmpb    $0x55, AP_FLAG
        je      2f
        pause
        dec     %ecx
        jnz     1b
        jmp     fail
2:      lea     smp_ok(%rip), %rsi
        call    puts
        jmp     reset

/* The AP's first code, 16-bit real mode at 0x1000:0000. */
ap_stub:
        .byte   0x2e, 0xc6, 0x06, 0x00, 0x01, 0x55  /* movb $0x55, %cs:0x100 */
        .byte   0xfa                                /* cli */
        .byte   0xf4                                /* hlt */
        .byte   0xeb, 0xfd                          /* jmp hlt */
ap_stub_end:

/* puts: writes the NUL-terminated string at RSI to COM1. */
puts:
        movb    (%rsi), %cl
        test    %cl, %cl
        jz      2f
        mov     $0x3fd, %dx                 /* LSR */
1:      in      %dx, %al
        test    $0x20, %al                  /* THRE */
        jz      1b
        mov     $0x3f8, %dx                 /* THR */
        mov     %cl, %al
        out     %al, %dx
        inc     %rsi
        jmp     puts
2:      ret

/* ---- PVH entry: 32-bit protected mode, paging off, EBX = start_info. */
        .code32
pvh_start:
        cli
        movl    $(pvh_pdpt + 3), pvh_pml4
        movl    $(pvh_pd + 3), pvh_pdpt
        xor     %ecx, %ecx                  /* 512 x 2 MiB: the first 1 GiB */
1:      mov     %ecx, %eax
        shl     $21, %eax
        or      $0x83, %eax                 /* present, writable, large */
        mov     %eax, pvh_pd(,%ecx,8)
        inc     %ecx
        cmp     $512, %ecx
        jb      1b
        mov     %cr4, %eax
        or      $0x20, %eax                 /* PAE */
        mov     %eax, %cr4
        mov     $pvh_pml4, %eax
        mov     %eax, %cr3
        mov     $0xc0000080, %ecx           /* EFER.LME */
        rdmsr
        or      $0x100, %eax
        wrmsr
        mov     %cr0, %eax
        or      $0x80000001, %eax           /* PG, PE */
        mov     %eax, %cr0
        lgdt    pvh_gdt_desc
        ljmp    $0x08, $pvh_long
        .code64
pvh_long:
        mov     $0x10, %eax
        mov     %eax, %ds
        mov     %eax, %es
        mov     %eax, %ss
        lea     pvh_stack_top(%rip), %rsp
        lea     hello(%rip), %rsi
        call    puts
        jmp     reset

        .balign 8
pvh_gdt:
        .quad   0
        .quad   0x00af9a000000ffff          /* 0x08: 64-bit code */
        .quad   0x00cf92000000ffff          /* 0x10: data */
pvh_gdt_desc:
        .word   pvh_gdt_desc - pvh_gdt - 1
        .long   pvh_gdt

hello:  .asciz  "hull-guest: hello\n"
smp_ok: .asciz  "hull-guest: smp\n"
written: .ascii "hull-guest: written\n"
written_end:
ready:  .ascii  ">"
broken: .asciz  "hull-guest: wrong entry state\n"

/* PVH's entry point, for qemu: XEN_ELFNOTE_PHYS32_ENTRY (18). */
        .section .note.pvh, "a", @note
        .balign 4
        .long   4                           /* name size */
        .long   4                           /* desc size */
        .long   18                          /* type */
        .asciz  "Xen"
        .long   entry32

        .section .bss.pvh, "aw", @nobits
        .balign 4096
pvh_pml4:
        .skip   4096
pvh_pdpt:
        .skip   4096
pvh_pd:
        .skip   4096
        .skip   4096
pvh_stack_top:
