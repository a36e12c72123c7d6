import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsBoolean, IsEmail, IsIn, IsOptional, IsString, IsUUID, MaxLength, MinLength } from 'class-validator';
import { ROLES, type Role } from '../auth/principal';

export class CreateUserDto {
  @IsEmail()
  @MaxLength(254)
  @ApiProperty({ format: 'email' })
  email!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(200)
  @ApiProperty({ maxLength: 200 })
  name!: string;

  @IsString()
  @MinLength(12, { message: 'password must be at least 12 characters' })
  @MaxLength(1024)
  @ApiProperty({ minLength: 12, format: 'password' })
  password!: string;

  @IsIn(ROLES)
  @ApiProperty({ enum: ROLES })
  role!: Role;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsUUID('all', { each: true })
  @ApiPropertyOptional({ type: [String], format: 'uuid' })
  teamIds?: string[];
}

export class UpdateUserDto {
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  @ApiPropertyOptional({ maxLength: 200 })
  name?: string;

  @IsOptional()
  @IsString()
  @MinLength(12, { message: 'password must be at least 12 characters' })
  @MaxLength(1024)
  @ApiPropertyOptional({ minLength: 12, format: 'password' })
  password?: string;

  @IsOptional()
  @IsIn(ROLES)
  @ApiPropertyOptional({ enum: ROLES })
  role?: Role;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsUUID('all', { each: true })
  @ApiPropertyOptional({ type: [String], format: 'uuid' })
  teamIds?: string[];

  /** Disabling signs the user out everywhere. */
  @IsOptional()
  @IsBoolean()
  @ApiPropertyOptional({ description: 'Disabling signs the user out everywhere' })
  disabled?: boolean;
}

export class ListUsersQuery {
  @IsOptional()
  @IsUUID()
  @ApiPropertyOptional({ format: 'uuid' })
  teamId?: string;

  @IsOptional()
  @IsIn(ROLES)
  @ApiPropertyOptional({ enum: ROLES })
  role?: Role;
}
