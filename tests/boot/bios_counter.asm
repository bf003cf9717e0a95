; MBR boot code for the boot tests. Runs from a SAN disk hooked by iPXE's sanboot (INT 13h over iSCSI):
; reads the counter sector (LBA 1), increments it, writes it back, prints "BOOTHERD-MARKER boot=<n>" on COM1
; and powers the machine off. A counter sector without the magic counts as 0, so a blank LBA 1 still works.
bits 16
org 0x7c00

COM1        equ 0x3f8
COUNTER_BUF equ 0x7e00

start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7c00
    sti
    cld
    mov [boot_drive], dl

    call serial_init

    mov ah, 0x42                    ; extended read of LBA 1
    call disk_io_lba1
    jc .read_chs
    jmp .have_sector
.read_chs:                          ; no INT 13h extensions: CHS 0/0/2 is LBA 1 on any geometry
    mov ax, 0x0201
    call disk_io_chs
    jc disk_error
.have_sector:
    mov si, magic
    mov di, COUNTER_BUF
    mov cx, magic_len
    repe cmpsb
    je .magic_ok
    mov si, magic                   ; fresh sector: stamp the magic, start from zero
    mov di, COUNTER_BUF
    mov cx, magic_len
    rep movsb
    mov dword [COUNTER_BUF + magic_len], 0
.magic_ok:
    inc dword [COUNTER_BUF + magic_len]

    mov ah, 0x43                    ; extended write of LBA 1 (AL=0: no verify)
    xor al, al
    call disk_io_lba1
    jnc .written
    mov ax, 0x0301
    call disk_io_chs
    jc disk_error
.written:
    mov si, marker
    call serial_puts
    mov eax, [COUNTER_BUF + magic_len]
    call serial_put_decimal
    mov si, crlf
    call serial_puts
    jmp power_off

disk_error:
    mov si, disk_error_msg
    call serial_puts
    jmp power_off

; AH = 0x42 or 0x43 (AL for 0x43): one sector at LBA 1 to/from COUNTER_BUF. CF set on error.
disk_io_lba1:
    mov si, dap
    mov dl, [boot_drive]
    int 0x13
    ret

; AX = 0x0201 (read) or 0x0301 (write): one sector at cylinder 0, head 0, sector 2. CF set on error.
disk_io_chs:
    mov bx, COUNTER_BUF
    mov cx, 0x0002
    xor dh, dh
    mov dl, [boot_drive]
    int 0x13
    ret

; 115200 8N1, FIFO on.
serial_init:
    mov dx, COM1 + 1
    xor al, al
    out dx, al                      ; no interrupts
    mov dx, COM1 + 3
    mov al, 0x80
    out dx, al                      ; DLAB on
    mov dx, COM1
    mov al, 1
    out dx, al                      ; divisor 1 = 115200 baud
    mov dx, COM1 + 1
    xor al, al
    out dx, al
    mov dx, COM1 + 3
    mov al, 0x03
    out dx, al                      ; 8N1, DLAB off
    mov dx, COM1 + 2
    mov al, 0xc7
    out dx, al
    mov dx, COM1 + 4
    mov al, 0x03
    out dx, al                      ; DTR, RTS
    ret

; AL = byte to send; waits for the transmit holding register.
serial_putc:
    push dx
    push ax
    mov dx, COM1 + 5
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    pop ax
    mov dx, COM1
    out dx, al
    pop dx
    ret

; SI = NUL-terminated string.
serial_puts:
    lodsb
    test al, al
    jz .done
    call serial_putc
    jmp serial_puts
.done:
    ret

; EAX = unsigned value, printed in decimal.
serial_put_decimal:
    mov ebx, 10
    xor cx, cx
.divide:
    xor edx, edx
    div ebx
    push dx
    inc cx
    test eax, eax
    jnz .divide
.emit:
    pop ax
    add al, '0'
    call serial_putc
    loop .emit
    ret

; ACPI soft-off through the PM1a control block qemu's PIIX4 has at 0x604 under SeaBIOS (SLP_TYP=0, SLP_EN),
; then the older Bochs port; with neither, stop in a halt loop (the test ends on the marker anyway).
power_off:
    mov dx, 0x604
    mov ax, 0x2000
    out dx, ax
    mov dx, 0xb004
    out dx, ax
.halt:
    cli
    hlt
    jmp .halt

boot_drive:     db 0
align 4
dap:            db 0x10, 0          ; size, reserved
                dw 1                ; sectors
                dw COUNTER_BUF, 0   ; buffer offset, segment
                dq 1                ; LBA
magic:          db 'BOOTHERD-COUNTER'
magic_len       equ $ - magic
marker:         db 'BOOTHERD-MARKER boot=', 0
crlf:           db 13, 10, 0
disk_error_msg: db 'BOOTHERD-MARKER disk-error', 13, 10, 0

times 446 - ($ - $$) db 0
times 64 db 0                       ; no partition table
dw 0xaa55
