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
 * on, then reads each byte (polling LSR.DR), upper-cases a-z, writes it
 * back (polling LSR.THRE), and resets the machine when it reads a NUL. */
        .code64
        .section .text.boot, "ax"
        .globl _start

/* The 32-bit entry at offset 0: unused by hull; stop if anyone jumps here. */
entry32:
        cli
        hlt
        jmp     entry32

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

hello:  .asciz  "hull-guest: hello\n"
broken: .asciz  "hull-guest: wrong entry state\n"
