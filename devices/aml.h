/*
 * A small AML (ACPI Machine Language) emitter: just what ember's DSDT needs.
 * Bytes go into one growable buffer. Objects that carry a PkgLength are
 * opened (the call returns a handle), filled, then closed with aml_end(),
 * which inserts the PkgLength now that the size is known.
 *
 * Errors stick: after an allocation failure or a bad argument (a malformed
 * name, an out-of-range value) a->err holds a negative errno and every later
 * call does nothing, so builders need not check each step; the caller
 * checks a->err once at the end.
 */
#ifndef EMBER_AML_H
#define EMBER_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct aml {
	uint8_t *buf;
	size_t len, cap;
	int err;
};

void aml_init(struct aml *a);
void aml_free(struct aml *a);
/* Marks @a failed with @err unless it already failed. */
void aml_fail(struct aml *a, int err);

void aml_bytes(struct aml *a, const void *p, size_t n);
void aml_byte(struct aml *a, uint8_t v);
/* A raw PkgLength of @v bytes (which count the encoding itself): 1-4 bytes. */
void aml_pkglen(struct aml *a, uint32_t v);

/*
 * NameString: "\\" for the root, a leading "\\" or "^"s, then segments of
 * 1-4 characters ([A-Z_][A-Z0-9_]*) separated by dots; short segments are
 * padded with '_' ("_SB" is "_SB_").
 */
void aml_namestring(struct aml *a, const char *path);
/* The smallest encoding: Zero, One, Ones (all 64 bits), Byte..QWordPrefix. */
void aml_int(struct aml *a, uint64_t v);
void aml_string(struct aml *a, const char *s);
/* Compressed EISA id ("PNP0501" -> 0x0105d041); -EINVAL if malformed. */
int aml_eisaid_value(const char *id, uint32_t *out);
void aml_eisaid(struct aml *a, const char *id);

/* Name(@name, ...): the caller emits the value right after. */
void aml_name(struct aml *a, const char *name);
/* Return(...): the caller emits the value right after. */
void aml_return(struct aml *a);

/* Openers return a handle for aml_end(). */
size_t aml_scope(struct aml *a, const char *path);
size_t aml_device(struct aml *a, const char *name);
size_t aml_method(struct aml *a, const char *name, unsigned nargs,
		  bool serialized);
size_t aml_package(struct aml *a, unsigned nelems);
void aml_end(struct aml *a, size_t h);
/* Buffer(){...}: the bytes in between; the size is filled in at the end. */
size_t aml_buffer(struct aml *a);
void aml_buffer_end(struct aml *a, size_t h);

/*
 * ResourceTemplate(){...} for _CRS: a Buffer of resource descriptors that
 * aml_res_end() closes with an EndTag (checksum 0: "not checksummed").
 */
size_t aml_res_begin(struct aml *a);
void aml_res_end(struct aml *a, size_t h);

/* IO(Decode16, min, max, align, len) */
void aml_res_io(struct aml *a, uint16_t min, uint16_t max, uint8_t align,
		uint8_t len);
/* FixedIO(base, len): 10-bit decode. */
void aml_res_fixed_io(struct aml *a, uint16_t base, uint8_t len);
/* IRQNoFlags(){irq}: ISA, edge, active high; irq < 16. */
void aml_res_irq(struct aml *a, unsigned irq);
void aml_res_mem32_fixed(struct aml *a, bool rw, uint32_t base, uint32_t len);

/* Flags of the extended Interrupt() descriptor, as it stores them. */
#define AML_IRQ_CONSUMER	0x01	/* else ResourceProducer */
#define AML_IRQ_EDGE		0x02	/* else Level */
#define AML_IRQ_ACTIVE_LOW	0x04	/* else ActiveHigh */
#define AML_IRQ_SHARED		0x08	/* else Exclusive */
void aml_res_interrupt(struct aml *a, unsigned flags, uint32_t gsi);

/*
 * Address-space descriptors as a PCI host bridge's _CRS uses them:
 * ResourceProducer, PosDecode, MinFixed, MaxFixed, length max - min + 1;
 * memory is ReadWrite.
 */
void aml_res_word_bus(struct aml *a, uint16_t min, uint16_t max);
void aml_res_word_io(struct aml *a, uint16_t min, uint16_t max);
void aml_res_dword_mem(struct aml *a, bool cacheable, uint32_t min,
		       uint32_t max);
void aml_res_qword_mem(struct aml *a, bool cacheable, uint64_t min,
		       uint64_t max);

/*
 * Method bodies. Terms are prefix-encoded: emit an operator, then its
 * operands in order (a Target is a NameString, aml_local() or aml_arg()).
 * If and Else are opened and closed with aml_end(); If's predicate is the
 * first thing emitted after aml_if().
 */
enum aml_opcode {
	AML_STORE = 0x70,		/* Store(Source, Target) */
	AML_AND = 0x7b,			/* And(A, B, Target) */
	AML_OR = 0x7d,			/* Or(A, B, Target) */
	AML_CREATE_DWORD_FIELD = 0x8a,	/* CreateDWordField(Buffer, ByteIndex, Name) */
	AML_LNOT = 0x92,		/* LNot(A) */
	AML_LEQUAL = 0x93,		/* LEqual(A, B) */
};
void aml_op(struct aml *a, enum aml_opcode op);
void aml_arg(struct aml *a, unsigned n);	/* Arg0-Arg6 */
void aml_local(struct aml *a, unsigned n);	/* Local0-Local7 */
size_t aml_if(struct aml *a);
size_t aml_else(struct aml *a);
/* ToUUID("aabbccdd-eeff-gghh-iijj-kkllmmnnoopp"): a 16-byte Buffer. */
void aml_uuid(struct aml *a, const char *uuid);

/*
 * For the DSDT nodes of the device types' aml callbacks, which acpi_build()
 * calls inside Scope(\_SB); each device's node lives with the device.
 */
/* _HID: a 7-character PNP id as a compressed EISA id, others as a string. */
void aml_hid(struct aml *a, const char *id);
/*
 * Device(@name) of an ISA device: _HID @hid, _UID @uid if @uid >= 0, and
 * _CRS with IO(Decode16, @port, @port, 1, @len) and IRQNoFlags(){@irq} if
 * @irq >= 0.
 */
void aml_isa_device(struct aml *a, const char *name, const char *hid, int uid,
		    uint16_t port, uint8_t len, int irq);

#endif
