import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength, ValidateIf } from 'class-validator';
import { TeamOrNumberDto } from './auto-replies.dto';

/** The CSAT survey of a team or a business number (exactly one of them); omitted fields take their defaults. */
export class PutCsatSettingDto extends TeamOrNumberDto {
  @ApiPropertyOptional({ default: true })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({ maxLength: 1024, default: 'How satisfied are you with our help?', description: 'The survey text' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  question?: string;

  @ApiPropertyOptional({ maxLength: 20, default: 'Rate us', description: 'The button that opens the 1–5 list' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(20)
  buttonText?: string;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 1024, description: 'Sent after a rating to ask for a comment; null = none' })
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsString()
  @MinLength(1)
  @MaxLength(1024)
  commentPrompt?: string | null;

  @ApiPropertyOptional({ minimum: 1, maximum: 60, default: 10, description: 'Minutes after the rating in which a text message is the comment' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(60)
  commentMinutes?: number;
}
