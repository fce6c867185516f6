; The segmentation test kernel: boots from multiboot at CPL 0 with paging off,
; and for each case of the batch (the multiboot module) installs the case's
; descriptors in its GDT at index 4 and up, loads GDTR with the case's limit,
; and runs its ops: a load of ES, SS, FS or GS, or a read or write through ES,
; FS or GS. Each op reports (vector, error code, value) to port 0xE9: vector 0
; when nothing faulted; #NP, #SS and #GP are caught and the op ends there.
; After the ops it reports the high doubleword of each case descriptor (the
; accessed bit). Any other exception reports 0xDEADDEAD, vector, error, EIP
; and exits with status 0x11; a finished batch exits with 0x10.
;
; Batch: u32 ncases; per case: u32 gdt_limit, u32 nentries, nentries x (lo, hi),
;        u32 nops, nops x (kind, reg, arg, size)
;   kind 1 load: reg 0 ES, 2 SS, 4 FS, 5 GS; arg the selector
;   kind 2 read: reg 0/4/5; arg the offset; size 1, 2 or 4
;   kind 3 write: reg 0/4/5; arg the offset; size 4 (the value 0xA5C3961E)
; The test area 0x800000-0x8FFFFF holds byte p = (p ^ p>>8 ^ p>>16) & 0xFF.

bits 32
FIRST equ 4                 ; first GDT index a case owns
MAX_ENTRIES equ 28

section .multiboot
align 4
    dd 0x1BADB002
    dd 0
    dd -0x1BADB002

section .bss
align 16
stack: resb 16384
stack_top:
mbi: resd 1
resume_esp: resd 1
resume_eip: resd 1
fault_vec: resd 1
fault_code: resd 1
op_value: resd 1
idt: resb 256

section .data
align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF   ; 0x08 code
    dq 0x00CF92000000FFFF   ; 0x10 data
    dq 0
    times MAX_ENTRIES dq 0
gdtr:
    dw 32 * 8 - 1
    dd gdt
case_gdtr:
    dw 0
    dd gdt
idtr:
    dw 32 * 8 - 1
    dd idt

section .text
global _start

%macro ISR 1
isr%1:
%if %1 = 8 || (%1 >= 10 && %1 <= 14) || %1 = 17
%else
    push dword 0
%endif
    push dword %1
    jmp isr_common
%endmacro

%assign i 0
%rep 32
ISR i
%assign i i+1
%endrep

isr_table:
%assign i 0
%rep 32
    dd isr %+ i
%assign i i+1
%endrep

; put32: write eax to the debug port as 4 little-endian bytes.
put32:
    push ecx
    push edx
    mov edx, 0xE9
    mov ecx, 4
.l: out dx, al
    ror eax, 8
    loop .l
    pop edx
    pop ecx
    ret

isr_common:
    mov eax, [esp]
    cmp eax, 11
    jb .fatal
    cmp eax, 13
    ja .fatal
    mov [fault_vec], eax
    mov eax, [esp + 4]
    mov [fault_code], eax
    mov esp, [resume_esp]
    jmp [resume_eip]
.fatal:
    mov eax, 0xDEADDEAD
    call put32
    mov eax, [esp]
    call put32
    mov eax, [esp + 4]
    call put32
    mov eax, [esp + 8]
    call put32
    mov eax, 0x11
    out 0xF4, eax
    hlt

_start:
    cld
    mov esp, stack_top
    mov [mbi], ebx
    lgdt [gdtr]
    jmp 0x08:.cs
.cs:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    ; the IDT: 32 interrupt gates to isr0..isr31
    xor ecx, ecx
.gate:
    mov eax, [isr_table + ecx * 4]
    mov edx, eax
    and eax, 0xFFFF
    or eax, 0x00080000
    mov [idt + ecx * 8], eax
    and edx, 0xFFFF0000
    or edx, 0x8E00
    mov [idt + ecx * 8 + 4], edx
    inc ecx
    cmp ecx, 32
    jb .gate
    lidt [idtr]
    xor eax, eax
    lldt ax                 ; no LDT: a TI=1 selector is then #GP(selector), not the reset LDT at linear 0
    ; the test area's pattern
    mov edi, 0x800000
.fill:
    mov eax, edi
    mov edx, edi
    shr edx, 8
    xor eax, edx
    shr edx, 8
    xor eax, edx
    mov [edi], al
    inc edi
    cmp edi, 0x900000
    jb .fill
    ; the batch
    mov esi, [mbi]
    mov esi, [esi + 24]     ; mods_addr
    mov esi, [esi]          ; mod_start
    lodsd
    mov ebp, eax            ; cases left
.case:
    test ebp, ebp
    jz .done
    lodsd
    mov [case_gdtr], ax
    lodsd
    mov ebx, eax            ; entries
    push ebx
    lea edi, [gdt + FIRST * 8]
    lea ecx, [ebx * 2]
    rep movsd
    lgdt [case_gdtr]
    lodsd
    mov ecx, eax            ; ops
.op:
    test ecx, ecx
    jz .ops_done
    push ecx
    mov dword [fault_vec], 0
    mov dword [fault_code], 0
    mov [resume_esp], esp
    mov dword [resume_eip], .resume
    lodsd
    mov edx, eax            ; kind
    lodsd
    mov edi, eax            ; reg
    lodsd
    mov ebx, eax            ; arg
    lodsd                   ; size
    xchg eax, ebx           ; eax = arg, ebx = size
    cmp edx, 1
    je .load
    cmp edx, 2
    je .read
    jmp .write
.load:
    cmp edi, 0
    je .les
    cmp edi, 2
    je .lss
    cmp edi, 4
    je .lfs
    mov gs, ax
    jmp .ok
.les: mov es, ax
    jmp .ok
.lfs: mov fs, ax
    jmp .ok
.lss:
    mov ss, ax
    mov ax, 0x10
    mov ss, ax
    jmp .ok
.read:
    mov edx, eax            ; offset
    xor eax, eax
    cmp edi, 0
    je .res
    cmp edi, 4
    je .rfs
    ; gs
    cmp ebx, 1
    je .rgs1
    cmp ebx, 2
    je .rgs2
    mov eax, [gs:edx]
    jmp .val
.rgs1: movzx eax, byte [gs:edx]
    jmp .val
.rgs2: movzx eax, word [gs:edx]
    jmp .val
.res:
    cmp ebx, 1
    je .res1
    cmp ebx, 2
    je .res2
    mov eax, [es:edx]
    jmp .val
.res1: movzx eax, byte [es:edx]
    jmp .val
.res2: movzx eax, word [es:edx]
    jmp .val
.rfs:
    cmp ebx, 1
    je .rfs1
    cmp ebx, 2
    je .rfs2
    mov eax, [fs:edx]
    jmp .val
.rfs1: movzx eax, byte [fs:edx]
    jmp .val
.rfs2: movzx eax, word [fs:edx]
    jmp .val
.write:
    mov edx, eax
    mov eax, 0xA5C3961E
    cmp edi, 0
    je .wes
    cmp edi, 4
    je .wfs
    mov [gs:edx], eax
    jmp .ok
.wes: mov [es:edx], eax
    jmp .ok
.wfs: mov [fs:edx], eax
.ok:
    xor eax, eax
.val:
    mov [op_value], eax
    jmp .report
.resume:
    mov dword [op_value], 0
.report:
    mov ax, 0x10
    mov ds, ax
    mov eax, [fault_vec]
    call put32
    mov eax, [fault_code]
    call put32
    mov eax, [op_value]
    call put32
    pop ecx
    dec ecx
    jmp .op
.ops_done:
    pop ebx
    xor ecx, ecx
.dump:
    cmp ecx, ebx
    jae .next_case
    mov eax, [gdt + FIRST * 8 + ecx * 8 + 4]
    call put32
    inc ecx
    jmp .dump
.next_case:
    lgdt [gdtr]
    mov ax, 0x10
    mov es, ax
    mov fs, ax
    mov gs, ax
    dec ebp
    jmp .case
.done:
    mov eax, 0x10
    out 0xF4, eax
    hlt
