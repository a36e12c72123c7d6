import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
} from 'class-validator';
import { PageQuery } from '../http/page-query';
import { CONTACT_ATTRIBUTES_MAX, CONTACT_ATTRIBUTE_VALUE_MAX, CONTACT_LABEL_MAX, CONTACT_LABELS_MAX, CONTACT_NAME_MAX } from '@app/contracts';

export class ContactsQuery extends PageQuery {
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  @ApiPropertyOptional({
    maxLength: 100,
    description: 'Name, WhatsApp profile name, phone (wa_id, also typed with spaces/+/dashes) or BSUID contains q (case-insensitive; % and _ literal)',
  })
  q?: string;

  @IsOptional()
  @IsString()
  @MaxLength(CONTACT_LABEL_MAX)
  @ApiPropertyOptional({ description: 'Only contacts carrying this label' })
  label?: string;

  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  @ApiPropertyOptional({ type: Boolean, description: 'Only blocked (true) or not blocked (false) contacts' })
  blocked?: boolean;

}

export class ExportQuery extends ContactsQuery {}

export class UpdateContactDto {
  @IsOptional()
  @IsInt()
  @Min(1)
  @ApiPropertyOptional({ minimum: 1, description: 'The contact version the client saw (409 with the current contact when stale)' })
  version?: number;

  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsString()
  @MinLength(1)
  @MaxLength(CONTACT_NAME_MAX)
  @ApiPropertyOptional({ nullable: true, maxLength: CONTACT_NAME_MAX, description: 'The name people use for the contact; null clears it (WhatsApp never overwrites it)' })
  name?: string | null;

  @IsOptional()
  @IsObject()
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string', nullable: true, maxLength: CONTACT_ATTRIBUTE_VALUE_MAX },
    description: `A patch: keys (1–64 of A-Z a-z 0-9 _ . -) set to a string are set, set to null are removed; at most ${CONTACT_ATTRIBUTES_MAX} keys per contact, values up to ${CONTACT_ATTRIBUTE_VALUE_MAX} characters`,
  })
  attributes?: Record<string, string | null>;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(CONTACT_LABELS_MAX)
  @IsString({ each: true })
  @MinLength(1, { each: true })
  @MaxLength(CONTACT_LABEL_MAX, { each: true })
  @ApiPropertyOptional({ type: [String], maxItems: CONTACT_LABELS_MAX, description: 'Replaces the labels; names from the label catalogue' })
  labels?: string[];
}

export class MergeContactDto {
  @IsUUID()
  @ApiProperty({ format: 'uuid', description: 'The contact merged into this one (it becomes a tombstone redirecting here)' })
  mergedContactId!: string;
}
