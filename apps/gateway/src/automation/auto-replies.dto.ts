import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { AUTO_REPLY_KINDS, type AutoReplyKind } from '@app/contracts';

/** What an automation setting is for: a team or a business number (exactly one of them, checked by the controller). */
export class TeamOrNumberDto {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  teamId?: string;

  @ApiPropertyOptional({ description: "Meta's phone_number_id" })
  @IsOptional()
  @Matches(/^\d{1,32}$/, { message: 'phoneNumberId must be digits' })
  phoneNumberId?: string;
}

/** A greeting or away reply for a team or a business number (exactly one of them). */
export class PutAutoReplyDto extends TeamOrNumberDto {
  @ApiProperty({ enum: AUTO_REPLY_KINDS })
  @IsIn(AUTO_REPLY_KINDS)
  kind!: AutoReplyKind;

  @ApiProperty({ maxLength: 4096 })
  @IsString()
  @MinLength(1)
  @MaxLength(4096)
  text!: string;

  @ApiPropertyOptional({ description: 'At most once per conversation within this many minutes (default 1440)' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(525_600)
  periodMinutes?: number;

  @ApiPropertyOptional()
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}
