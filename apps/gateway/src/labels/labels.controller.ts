import { Body, Controller, Delete, Get, Param, ParseUUIDPipe, Patch, Post, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiProperty,
  ApiPropertyOptional,
  ApiSecurity,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { ErrorResponse } from '../auth/auth.responses';
import { AuthGuard } from '../auth/auth.guard';
import { CurrentPrincipal, RequireScopes, type Principal } from '../auth/principal';
import { LabelsService } from './labels.service';

const COLOR = /^#[0-9a-fA-F]{6}$/;
const NOT_BLANK = /\S/;

export class CreateLabelDto {
  @IsString()
  @MinLength(1)
  @MaxLength(40)
  @Matches(NOT_BLANK, { message: 'name must not be blank' })
  @ApiProperty({ maxLength: 40, description: 'Unique, case-insensitive' })
  name!: string;

  @IsString()
  @Matches(COLOR, { message: 'color must be #rrggbb' })
  @ApiProperty({ example: '#1e90ff', pattern: '^#[0-9a-fA-F]{6}$' })
  color!: string;
}

export class UpdateLabelDto {
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(40)
  @Matches(NOT_BLANK, { message: 'name must not be blank' })
  @ApiPropertyOptional({ maxLength: 40 })
  name?: string;

  @IsOptional()
  @IsString()
  @Matches(COLOR, { message: 'color must be #rrggbb' })
  @ApiPropertyOptional({ example: '#1e90ff', pattern: '^#[0-9a-fA-F]{6}$' })
  color?: string;
}

export class LabelResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ example: '#1e90ff' }) color!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class LabelListResponse {
  @ApiProperty({ type: [LabelResponse] }) items!: LabelResponse[];
}

/** The label catalogue: everyone who reads conversations can list it; admins change it (audited). */
@ApiTags('labels')
@ApiBearerAuth('bearer')
@ApiSecurity('apiKey')
@ApiUnauthorizedResponse({ type: ErrorResponse })
@ApiForbiddenResponse({ type: ErrorResponse })
@Controller('api/v1/labels')
@UseGuards(AuthGuard)
export class LabelsController {
  constructor(private readonly labels: LabelsService) {}

  @Get()
  @ApiOkResponse({ type: LabelListResponse })
  @RequireScopes('conversations:read')
  list() {
    return this.labels.list().then((items) => ({ items }));
  }

  @Get(':id')
  @ApiOkResponse({ type: LabelResponse })
  @ApiNotFoundResponse({ type: ErrorResponse })
  @RequireScopes('conversations:read')
  get(@Param('id', ParseUUIDPipe) id: string) {
    return this.labels.get(id);
  }

  @Post()
  @ApiCreatedResponse({ type: LabelResponse })
  @ApiConflictResponse({ type: ErrorResponse, description: 'A label of that name (any case) exists' })
  @RequireScopes('admin')
  create(@Body() dto: CreateLabelDto, @CurrentPrincipal() me: Principal) {
    return this.labels.create(dto.name, dto.color, me);
  }

  @Patch(':id')
  @ApiOkResponse({ type: LabelResponse })
  @ApiNotFoundResponse({ type: ErrorResponse })
  @ApiConflictResponse({ type: ErrorResponse, description: 'A label of that name (any case) exists' })
  @RequireScopes('admin')
  update(@Param('id', ParseUUIDPipe) id: string, @Body() dto: UpdateLabelDto, @CurrentPrincipal() me: Principal) {
    return this.labels.update(id, dto, me);
  }

  /** Removes the label from the catalogue; conversations that carry it keep it until their labels change. */
  @Delete(':id')
  @ApiOkResponse({ type: LabelResponse, description: 'The deleted label' })
  @ApiNotFoundResponse({ type: ErrorResponse })
  @RequireScopes('admin')
  remove(@Param('id', ParseUUIDPipe) id: string, @CurrentPrincipal() me: Principal) {
    return this.labels.remove(id, me);
  }
}
