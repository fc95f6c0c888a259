/** The edu device's registers as its driver knows them (from the device's datasheet, shared/specs/edu.md). */

export const EDU_REG_IDENTIFICATION = 0x00;
export const EDU_REG_LIVENESS = 0x04;
export const EDU_REG_FACTORIAL = 0x08;
export const EDU_REG_STATUS = 0x20;
export const EDU_REG_INTERRUPT_STATUS = 0x24;
export const EDU_REG_INTERRUPT_RAISE = 0x60;
export const EDU_REG_INTERRUPT_ACK = 0x64;
export const EDU_REG_DMA_SOURCE = 0x80;
export const EDU_REG_DMA_DESTINATION = 0x88;
export const EDU_REG_DMA_COUNT = 0x90;
export const EDU_REG_DMA_COMMAND = 0x98;

export const EDU_STATUS_COMPUTING = 0x01;
export const EDU_STATUS_IRQ_FACTORIAL = 0x80;
export const EDU_INTERRUPT_FACTORIAL = 0x001;
export const EDU_INTERRUPT_DMA = 0x100;
export const EDU_DMA_START = 0x1;
export const EDU_DMA_TO_RAM = 0x2;
export const EDU_DMA_INTERRUPT = 0x4;
/** Device address of the DMA buffer. */
export const EDU_DMA_BUFFER_ADDRESS = 0x40000;
/** Address bits the DMA engine drives. */
export const EDU_DMA_ADDRESS_BITS = 28;
/** Major version in the identification register. */
export const EDU_EXPECTED_MAJOR = 1;
