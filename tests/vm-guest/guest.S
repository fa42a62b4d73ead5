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
